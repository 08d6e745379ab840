package sim

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/ultrapeer"
)

// HierarchyConfig shapes the smart-flood network, as the daemon's
// configuration does (configs/servent.yaml).
type HierarchyConfig struct {
	// LeavesPerUltrapeer: ultrapeer count = ceil(nodes/LeavesPerUltrapeer)
	// (default 30).
	LeavesPerUltrapeer int
	// UltrapeersPerLeaf: ultrapeers each leaf attaches to (default 3).
	UltrapeersPerLeaf int
	// MeshDegree: ultrapeer mesh degree (default 8).
	MeshDegree int
}

func (c *HierarchyConfig) defaults() {
	if c.LeavesPerUltrapeer < 1 {
		c.LeavesPerUltrapeer = ultrapeer.DefaultLeavesPerUltrapeer
	}
	if c.UltrapeersPerLeaf < 1 {
		c.UltrapeersPerLeaf = 3
	}
	if c.MeshDegree < 1 {
		c.MeshDegree = 8
	}
}

// hierarchy is the smart-flood network as the real ultrapeer code builds it
// from a synthetic membership: ultrapeer.Elect, ultrapeer.Attach,
// ultrapeer.MeshGraph, one ultrapeer.Registry per ultrapeer.
type hierarchy struct {
	ups       []string         // elected IDs, sorted
	isUP      []bool           // per node
	mesh      [][]query.PeerID // per ultrapeer: mesh neighbours
	leafUPs   [][]query.PeerID // per leaf: its ultrapeers, preferred first
	upLeaves  [][]query.PeerID // per ultrapeer: its leaves, ascending
	index     []query.Index    // per ultrapeer: its registry
	tables    []*query.Table   // per ultrapeer: QRP table (buildTables)
	meshLinks int
}

// buildHierarchy elects, attaches, meshes and registers. Capacities are
// log-normal around 100 points (σ = 0.6), every member an hour old and
// automatic (no forced roles, no incumbents: a freshly formed network).
// With byName, the roles are computed on the names MemberName(i) with equal
// capacities, as the daemons of a live run on one machine compute them, so
// the election ranks by name.
func buildHierarchy(ids []query.PeerID, w *workload, cfg HierarchyConfig, byName bool, rng *rand.Rand) *hierarchy {
	cfg.defaults()
	n := len(ids)
	names := make([]string, n)
	index := make(map[string]int32, n)
	cands := make([]ultrapeer.Candidate, n)
	for i := range cands {
		names[i] = string(ids[i])
		c := 100.0
		if byName {
			names[i] = MemberName(i)
		} else {
			c = math.Round(math.Exp(math.Log(100)+0.6*rng.NormFloat64())*100) / 100
		}
		index[names[i]] = int32(i)
		cands[i] = ultrapeer.Candidate{ID: names[i], Capacity: c, Uptime: time.Hour}
	}
	upNames := ultrapeer.Elect(cands, ultrapeer.ElectionConfig{LeavesPerUltrapeer: cfg.LeavesPerUltrapeer})
	h := &hierarchy{
		isUP:     make([]bool, n),
		mesh:     make([][]query.PeerID, n),
		leafUPs:  make([][]query.PeerID, n),
		upLeaves: make([][]query.PeerID, n),
		index:    make([]query.Index, n),
	}
	graph := ultrapeer.MeshGraph(upNames, cfg.MeshDegree)
	for _, u := range upNames {
		v := index[u]
		h.ups = append(h.ups, string(ids[v]))
		h.isUP[v] = true
		for _, m := range graph[u] {
			h.mesh[v] = append(h.mesh[v], ids[index[m]])
		}
		h.meshLinks += len(graph[u])
	}
	h.meshLinks /= 2
	slices.Sort(h.ups)
	attached := attachAll(names, h.isUP, upNames, cfg.UltrapeersPerLeaf)
	for l, ups := range attached {
		for _, name := range ups {
			u := ids[index[name]]
			h.leafUPs[l] = append(h.leafUPs[l], u)
			v := peer(u)
			h.upLeaves[v] = append(h.upLeaves[v], ids[l])
		}
	}
	for _, u := range h.ups {
		v := peer(query.PeerID(u))
		reg := ultrapeer.NewRegistry(0)
		// Errors are impossible here: full updates of valid entries.
		_, _ = reg.ApplySelf(owner(query.PeerID(u)), fullUpdate(w, v))
		for _, l := range h.upLeaves[v] {
			_, _ = reg.Apply(owner(l), fullUpdate(w, peer(l)))
		}
		h.index[v] = ultrapeer.Index{Registry: reg}
	}
	return h
}

// attachAll runs ultrapeer.Attach for every leaf, spread over the CPUs
// (Attach is pure; each leaf's answer lands in its own slot, so the result
// does not depend on scheduling).
func attachAll(names []string, isUP []bool, ups []string, k int) [][]string {
	out := make([][]string, len(names))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for l := w; l < len(names); l += workers {
				if !isUP[l] {
					out[l] = ultrapeer.Attach(names[l], ups, k)
				}
			}
		})
	}
	wg.Wait()
	return out
}

// fullUpdate is node v's full index as a leaf registers it.
func fullUpdate(w *workload, v int32) ultrapeer.Update {
	u := ultrapeer.Update{Full: true, ToVersion: 1}
	for _, fi := range w.nodeFiles[v] {
		f := &w.files[fi]
		u.Add = append(u.Add, ultrapeer.Entry{Path: f.name, Size: int64(f.size), Hash: f.hash})
	}
	return u
}

// buildTables computes each ultrapeer's QRP table from its own and its
// leaves' files (query.Table.AddFile), once.
func (h *hierarchy) buildTables(w *workload) {
	if h.tables != nil {
		return
	}
	h.tables = make([]*query.Table, len(h.isUP))
	for _, u := range h.ups {
		v := peer(query.PeerID(u))
		t := query.NewTable(query.DefaultTableBits)
		add := func(node int32) {
			for _, fi := range w.nodeFiles[node] {
				t.AddFile(w.files[fi].name, w.files[fi].hash)
			}
		}
		add(v)
		for _, l := range h.upLeaves[v] {
			add(peer(l))
		}
		h.tables[v] = t
	}
}
