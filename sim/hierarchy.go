package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/ultrapeer"
)

// HierarchyConfig shapes the smart-flood network, as the daemon's
// configuration does (configs/servent.yaml); zero fields take the
// defaults of ultrapeer.DefaultPlanConfig.
type HierarchyConfig struct {
	// LeavesPerUltrapeer: base ultrapeer count = ceil(nodes /
	// LeavesPerUltrapeer) (default 30), raised until every leaf fits under
	// MaxLeaves (ultrapeer.ElectionConfig.Count).
	LeavesPerUltrapeer int
	// UltrapeersPerLeaf: ultrapeers each leaf attaches to (default 3).
	UltrapeersPerLeaf int
	// MaxLeaves: most leaves one ultrapeer holds (default 120, or the
	// average load (LeavesPerUltrapeer-1)*UltrapeersPerLeaf when that is
	// more, the least the daemon's configuration accepts).
	MaxLeaves int
	// MeshDegree: ultrapeer mesh degree (default 8).
	MeshDegree int
}

func (c *HierarchyConfig) defaults() {
	d := ultrapeer.DefaultPlanConfig()
	if c.LeavesPerUltrapeer < 1 {
		c.LeavesPerUltrapeer = d.Election.LeavesPerUltrapeer
	}
	if c.UltrapeersPerLeaf < 1 {
		c.UltrapeersPerLeaf = d.Election.UltrapeersPerLeaf
	}
	if c.MaxLeaves < 1 {
		c.MaxLeaves = max(d.Election.MaxLeaves, (c.LeavesPerUltrapeer-1)*c.UltrapeersPerLeaf)
	}
	if c.MeshDegree < 1 {
		c.MeshDegree = d.MeshDegree
	}
}

// plan is the planner configuration the daemons of such a network use.
func (c HierarchyConfig) plan() ultrapeer.PlanConfig {
	p := ultrapeer.DefaultPlanConfig()
	p.Election.LeavesPerUltrapeer = c.LeavesPerUltrapeer
	p.Election.UltrapeersPerLeaf = c.UltrapeersPerLeaf
	p.Election.MaxLeaves = c.MaxLeaves
	p.MeshDegree = c.MeshDegree
	return p
}

// hierarchy is the smart-flood network as the topology planner
// (ultrapeer.NewPlan) lays it out for a synthetic membership, with one
// ultrapeer.Registry per ultrapeer holding what the plan attaches to it.
type hierarchy struct {
	ups        []string         // elected IDs, sorted
	isUP       []bool           // per node
	mesh       [][]query.PeerID // per ultrapeer: mesh neighbours
	leafUPs    [][]query.PeerID // per leaf: its ultrapeers, preferred first
	upLeaves   [][]query.PeerID // per ultrapeer: its leaves, ascending
	index      []query.Index    // per ultrapeer: its registry
	tables     []*query.Table   // per ultrapeer: QRP table (buildTables)
	meshLinks  int
	unattached int // leaves with no ultrapeer
	short      int // leaves with some, but fewer than the plan's PerLeaf
}

// view is the synthetic membership of ids: capacities log-normal around
// 100 points (σ = 0.6), every member an hour old and automatic (no forced
// roles, no incumbents: a freshly formed network). With byName, the
// members are MemberName(i) with equal capacities, as the daemons of a
// live run on one machine see each other, so the election ranks by name.
// It returns the view and each member's node index.
func view(ids []query.PeerID, byName bool, rng *rand.Rand) (ultrapeer.View, map[string]int32) {
	index := make(map[string]int32, len(ids))
	cands := make([]ultrapeer.Candidate, len(ids))
	for i := range cands {
		name, c := string(ids[i]), 100.0
		if byName {
			name = MemberName(i)
		} else {
			c = math.Round(math.Exp(math.Log(100)+0.6*rng.NormFloat64())*100) / 100
		}
		index[name] = int32(i)
		cands[i] = ultrapeer.Candidate{ID: name, Capacity: c, Uptime: time.Hour}
	}
	return ultrapeer.View{Members: cands}, index
}

// buildHierarchy plans the network with ultrapeer.NewPlan and registers
// every leaf's files with the ultrapeers the plan gives it.
func buildHierarchy(ids []query.PeerID, w *workload, cfg HierarchyConfig, byName bool, rng *rand.Rand) *hierarchy {
	cfg.defaults()
	n := len(ids)
	v, index := view(ids, byName, rng)
	p := ultrapeer.NewPlan(v, cfg.plan())
	h := &hierarchy{
		isUP:     make([]bool, n),
		mesh:     make([][]query.PeerID, n),
		leafUPs:  make([][]query.PeerID, n),
		upLeaves: make([][]query.PeerID, n),
		index:    make([]query.Index, n),
	}
	peers := func(names []string) []query.PeerID {
		out := make([]query.PeerID, len(names))
		for i, name := range names {
			out[i] = ids[index[name]]
		}
		return out
	}
	for _, u := range p.Ultrapeers {
		v := index[u]
		h.ups = append(h.ups, string(ids[v]))
		h.isUP[v] = true
		h.mesh[v] = peers(p.Mesh[u])
		h.meshLinks += len(p.Mesh[u])
		h.upLeaves[v] = peers(p.Leaves[u])
		slices.SortFunc(h.upLeaves[v], func(a, b query.PeerID) int { return int(peer(a) - peer(b)) })
	}
	h.meshLinks /= 2
	slices.Sort(h.ups)
	for l, ups := range p.Attach {
		h.leafUPs[index[l]] = peers(ups)
		switch {
		case len(ups) == 0:
			h.unattached++
		case len(ups) < p.PerLeaf:
			h.short++
		}
	}
	for _, u := range h.ups {
		v := peer(query.PeerID(u))
		reg := ultrapeer.NewRegistry(cfg.MaxLeaves)
		// Errors are impossible here: full updates of valid entries, and
		// the plan never gives an ultrapeer more than MaxLeaves.
		_, _ = reg.ApplySelf(owner(query.PeerID(u)), fullUpdate(w, v))
		for _, l := range h.upLeaves[v] {
			_, _ = reg.Apply(owner(l), fullUpdate(w, peer(l)))
		}
		h.index[v] = ultrapeer.Index{Registry: reg}
	}
	return h
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

// degrees returns the mesh degree of each of ultrapeer v's neighbours.
func (h *hierarchy) degrees(v int32) map[query.PeerID]int {
	out := make(map[query.PeerID]int, len(h.mesh[v]))
	for _, nb := range h.mesh[v] {
		out[nb] = len(h.mesh[peer(nb)])
	}
	return out
}
