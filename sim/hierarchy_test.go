package sim

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/ultrapeer"
)

func TestHierarchy(t *testing.T) {
	const n = 2000
	ids := make([]query.PeerID, n)
	for i := range ids {
		ids[i] = query.PeerID(strconv.Itoa(i))
	}
	w, err := newWorkload(n, 100, 10, Replication{K: 3}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	h := buildHierarchy(ids, w, HierarchyConfig{}, false, rand.New(rand.NewPCG(1, 3)))
	if len(h.ups) != 67 { // ceil(2000/30)
		t.Fatalf("%d ultrapeers, want 67", len(h.ups))
	}
	attachments := 0
	for v := range n {
		if h.isUP[v] {
			if len(h.mesh[v]) == 0 || len(h.mesh[v]) > 8 || h.index[v] == nil || len(h.leafUPs[v]) != 0 {
				t.Fatalf("ultrapeer %d: mesh %v", v, h.mesh[v])
			}
			for _, m := range h.mesh[v] {
				if !slices.Contains(h.mesh[peer(m)], ids[v]) {
					t.Fatalf("mesh link %d-%s not symmetric", v, m)
				}
			}
			attachments += len(h.upLeaves[v])
			continue
		}
		if len(h.leafUPs[v]) != 3 || len(h.mesh[v]) != 0 {
			t.Fatalf("leaf %d: ultrapeers %v", v, h.leafUPs[v])
		}
		for _, u := range h.leafUPs[v] {
			if !h.isUP[peer(u)] || !slices.Contains(h.upLeaves[peer(u)], ids[v]) {
				t.Fatalf("leaf %d attached to %s, which does not list it", v, u)
			}
		}
	}
	if attachments != 3*(n-67) {
		t.Fatalf("%d attachments, want %d", attachments, 3*(n-67))
	}
	// Each ultrapeer answers for exactly the copies it and its leaves hold.
	h.buildTables(w)
	for fi := range w.files {
		q := &query.Query{Criteria: fileKeyword(fi)}
		for _, u := range h.ups {
			v := peer(query.PeerID(u))
			want := 0
			for _, holder := range w.holders[fi] {
				if holder == v || slices.Contains(h.upLeaves[v], ids[holder]) {
					want++
				}
			}
			if got := len(h.index[v].Match(q)); got != want {
				t.Fatalf("file %d at ultrapeer %s: %d hits, want %d", fi, u, got, want)
			}
			if want > 0 && !h.tables[v].MatchQuery(q, q.Words()) {
				t.Fatalf("file %d at ultrapeer %s: QRP table misses it", fi, u)
			}
		}
	}
}

// TestHierarchyIsThePlan: the simulator's network is exactly what the
// daemons' planner gives for the same membership: roles, mesh, every
// leaf's ultrapeers in order and every ultrapeer's leaves; under a cap
// that binds and with the defaults, every leaf has its 3.
func TestHierarchyIsThePlan(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		cfg    HierarchyConfig
		byName bool
	}{
		{"defaults", 3000, HierarchyConfig{}, false},
		{"by name", 500, HierarchyConfig{}, true},
		{"cap 60 binds", 3000, HierarchyConfig{MaxLeaves: 60}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids := make([]query.PeerID, tc.n)
			for i := range ids {
				ids[i] = query.PeerID(strconv.Itoa(i))
			}
			w, err := newWorkload(tc.n, 100, 10, Replication{K: 3}, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			h := buildHierarchy(ids, w, tc.cfg, tc.byName, rand.New(rand.NewPCG(5, 6)))
			cfg := tc.cfg
			cfg.defaults()
			v, index := view(ids, tc.byName, rand.New(rand.NewPCG(5, 6)))
			p := ultrapeer.NewPlan(v, cfg.plan())
			name := func(id query.PeerID) string { return v.Members[peer(id)].ID }
			names := func(ps []query.PeerID) []string {
				out := make([]string, len(ps))
				for i, id := range ps {
					out[i] = name(id)
				}
				return out
			}
			if len(h.ups) != len(p.Ultrapeers) || len(p.Ultrapeers) != p.Count {
				t.Fatalf("simulator %d ultrapeers, plan %d, count %d", len(h.ups), len(p.Ultrapeers), p.Count)
			}
			for _, u := range p.Ultrapeers {
				x := index[u]
				if !h.isUP[x] {
					t.Fatalf("%s is an ultrapeer in the plan only", u)
				}
				if !slices.Equal(names(h.mesh[x]), p.Mesh[u]) {
					t.Fatalf("%s: mesh %v, plan %v", u, names(h.mesh[x]), p.Mesh[u])
				}
				if got := slices.Sorted(slices.Values(names(h.upLeaves[x]))); !slices.Equal(got, p.Leaves[u]) {
					t.Fatalf("%s: leaves %v, plan %v", u, got, p.Leaves[u])
				}
				if len(p.Leaves[u]) > cfg.MaxLeaves {
					t.Fatalf("%s holds %d leaves, cap %d", u, len(p.Leaves[u]), cfg.MaxLeaves)
				}
			}
			for l, ups := range p.Attach {
				if got := names(h.leafUPs[index[l]]); !slices.Equal(got, ups) {
					t.Fatalf("leaf %s: %v, plan %v", l, got, ups)
				}
			}
			if h.unattached != 0 || h.short != 0 || len(p.Short()) != 0 {
				t.Fatalf("%d unattached, %d short leaves (plan: %d short)", h.unattached, h.short, len(p.Short()))
			}
		})
	}
}

func TestWorkload(t *testing.T) {
	for _, rep := range []Replication{{K: 3}, {K: 50}, {Zipf: true, S: 1}} {
		t.Run(rep.String(), func(t *testing.T) {
			const n = 1000
			w, err := newWorkload(n, 200, 500, rep, rand.New(rand.NewPCG(4, 4)))
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for fi, hs := range w.holders {
				total += len(hs)
				if !rep.Zipf && len(hs) != rep.K {
					t.Fatalf("file %d on %d nodes", fi, len(hs))
				}
				for _, v := range hs {
					if !slices.Contains(w.nodeFiles[v], int32(fi)) {
						t.Fatalf("node %d does not list file %d", v, fi)
					}
				}
			}
			if total != w.copies {
				t.Fatalf("copies %d, counted %d", w.copies, total)
			}
			if rep.Zipf && (len(w.holders[0]) != 10 || len(w.holders[199]) != 1) {
				t.Fatalf("zipf copies: first %d, last %d; want 10, 1", len(w.holders[0]), len(w.holders[199]))
			}
			popular := 0
			for _, j := range w.queries {
				fi := w.fileOf(j)
				if slices.Contains(w.holders[fi], j.origin) {
					t.Fatalf("query %d from a holder", j.n)
				}
				if fi < 10 {
					popular++
				}
			}
			// Zipf(1) over 200 files puts half the queries on the top 10.
			if rep.Zipf && popular < 200 || !rep.Zipf && popular > 60 {
				t.Fatalf("%d of 500 queries on the top 10 files", popular)
			}
		})
	}
}
