package ultrapeer

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/servent-p2p/servent/role"
)

func TestCount(t *testing.T) {
	def := DefaultElectionConfig()
	tight := ElectionConfig{LeavesPerUltrapeer: 30, UltrapeersPerLeaf: 3, MaxLeaves: 60}
	for _, tc := range []struct {
		name string
		cfg  ElectionConfig
		n    int
		want int
	}{
		{"defaults, 1", def, 1, 1},
		{"defaults, 3", def, 3, 1},
		{"defaults, 40", def, 40, 2},
		{"defaults, 100", def, 100, 5},
		{"defaults, 250", def, 250, 9},
		{"defaults, 1000", def, 1000, 34},
		{"defaults, 100000", def, 100000, 3334},
		{"no cap", ElectionConfig{}, 100, 4},
		// 30 members per ultrapeer would put 87 leaves on each: the cap of
		// 60 raises the count.
		{"cap 60, 100", tight, 100, 7},
		{"cap 60, 1000", tight, 1000, 50},
		{"cap 1", ElectionConfig{UltrapeersPerLeaf: 1, MaxLeaves: 1}, 10, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.Count(tc.n); got != tc.want {
				t.Fatalf("Count(%d) = %d, want %d", tc.n, got, tc.want)
			}
		})
	}
}

// checkPlan verifies what every plan must satisfy: the maps are each
// other's inverse, the cap holds, the mesh is symmetric, roles partition
// the members.
func checkPlan(t *testing.T, view View, cfg PlanConfig, p Plan) {
	t.Helper()
	if len(p.Attach)+len(p.Ultrapeers) != len(view.Members) {
		t.Fatalf("%d leaves + %d ultrapeers for %d members", len(p.Attach), len(p.Ultrapeers), len(view.Members))
	}
	for l, ups := range p.Attach {
		if p.IsUltrapeer(l) {
			t.Fatalf("%s is both leaf and ultrapeer", l)
		}
		for i, u := range ups {
			if !slices.Contains(p.Leaves[u], l) {
				t.Fatalf("leaf %s attached to %s, which does not list it", l, u)
			}
			if i > 0 && Weight(l, ups[i-1]) < Weight(l, u) {
				t.Fatalf("leaf %s: %v not in rendezvous order", l, ups)
			}
			if view.Refused != nil && view.Refused(l, u) {
				t.Fatalf("leaf %s attached to %s, which refused it", l, u)
			}
		}
	}
	for _, u := range p.Ultrapeers {
		if m := cfg.Election.MaxLeaves; m > 0 && len(p.Leaves[u]) > m {
			t.Fatalf("ultrapeer %s holds %d leaves, cap %d", u, len(p.Leaves[u]), m)
		}
		for _, l := range p.Leaves[u] {
			if !slices.Contains(p.Attach[l], u) {
				t.Fatalf("ultrapeer %s lists %s, which is not attached to it", u, l)
			}
		}
		for _, m := range p.Mesh[u] {
			if !slices.Contains(p.Mesh[m], u) {
				t.Fatalf("mesh link %s-%s not symmetric", u, m)
			}
		}
	}
}

// TestPlanEveryLeafFits: with the elected count, every leaf gets
// min(k, ultrapeers) ultrapeers and no ultrapeer exceeds the cap, for the
// defaults and for a cap that binds everywhere.
func TestPlanEveryLeafFits(t *testing.T) {
	tight := DefaultPlanConfig()
	tight.Election.MaxLeaves = 60
	for _, n := range []int{1, 2, 3, 5, 31, 100, 250, 1000, 5000} {
		for name, cfg := range map[string]PlanConfig{"defaults": DefaultPlanConfig(), "cap 60": tight} {
			t.Run(fmt.Sprintf("%s/%d", name, n), func(t *testing.T) {
				view := View{Members: network(n, uint64(n))}
				p := NewPlan(view, cfg)
				checkPlan(t, view, cfg, p)
				if len(p.Ultrapeers) != p.Count || p.Count != cfg.Election.Count(n) {
					t.Fatalf("%d ultrapeers, count %d, want %d", len(p.Ultrapeers), p.Count, cfg.Election.Count(n))
				}
				if want := min(3, p.Count); p.PerLeaf != want {
					t.Fatalf("PerLeaf %d, want %d", p.PerLeaf, want)
				}
				if short := p.Short(); len(short) > 0 {
					t.Fatalf("%d leaves short of %d ultrapeers: %v", len(short), p.PerLeaf, short[:min(5, len(short))])
				}
			})
		}
	}
}

// TestAssignWithoutCapIsAttach: where the cap binds nowhere a leaf's
// ultrapeers are Attach's, so a leaf joining or leaving moves nobody.
func TestAssignWithoutCapIsAttach(t *testing.T) {
	ups, leaves := ids("up", 20), ids("leaf", 300)
	for _, cap := range []int{0, 1000} {
		attach, _ := Assign(leaves, ups, 3, cap, nil)
		for _, l := range leaves {
			if want := Attach(l, ups, 3); !slices.Equal(attach[l], want) {
				t.Fatalf("cap %d: leaf %s: %v, want %v", cap, l, attach[l], want)
			}
		}
	}
}

// TestAssignOrderIndependent: the leaves' order does not change the
// result, also where the cap binds.
func TestAssignOrderIndependent(t *testing.T) {
	ups, leaves := ids("up", 12), ids("leaf", 500)
	want, wantHeld := Assign(leaves, ups, 3, 130, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		shuffled := slices.Clone(leaves)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, held := Assign(shuffled, ups, 3, 130, nil)
		for _, l := range leaves {
			if !slices.Equal(got[l], want[l]) {
				t.Fatalf("leaf %s: %v, then %v", l, want[l], got[l])
			}
		}
		for _, u := range ups {
			if !slices.Equal(held[u], wantHeld[u]) {
				t.Fatalf("ultrapeer %s holds different leaves", u)
			}
		}
	}
}

// TestAssignCapKeepsHeaviest: at the cap an ultrapeer keeps the leaves of
// largest weight; the others go down their own order.
func TestAssignCapKeepsHeaviest(t *testing.T) {
	ups, leaves := ids("up", 3), ids("leaf", 10)
	attach, held := Assign(leaves, ups, 1, 4, nil)
	for _, u := range ups {
		if len(held[u]) > 4 {
			t.Fatalf("%s holds %d", u, len(held[u]))
		}
	}
	for _, l := range leaves {
		if len(attach[l]) != 1 {
			t.Fatalf("leaf %s: %v", l, attach[l])
		}
		first := Attach(l, ups, 1)[0]
		if attach[l][0] == first {
			continue
		}
		// Moved: its first choice is full of heavier leaves.
		for _, other := range held[first] {
			if heavier(weighted{Weight(l, first), l}, weighted{Weight(other, first), other}) < 0 {
				t.Fatalf("leaf %s moved off %s for the lighter %s", l, first, other)
			}
		}
	}
}

// TestPlanRefusals: a refused pair is never planned; the leaf takes the
// next of its order at once.
func TestPlanRefusals(t *testing.T) {
	cfg := DefaultPlanConfig()
	view := View{Members: network(100, 5)}
	before := NewPlan(view, cfg)
	leaf := slices.Sorted(maps.Keys(before.Attach))[0]
	gone := before.Attach[leaf][0]
	view.Refused = func(l, u string) bool { return l == leaf && u == gone }
	after := NewPlan(view, cfg)
	checkPlan(t, view, cfg, after)
	order := Attach(leaf, before.Ultrapeers, len(before.Ultrapeers))
	want := slices.DeleteFunc(slices.Clone(order), func(u string) bool { return u == gone })[:3]
	if !slices.Equal(after.Attach[leaf], want) {
		t.Fatalf("after refusal by %s: %v, want %v", gone, after.Attach[leaf], want)
	}
	for l, ups := range before.Attach {
		if l != leaf && !slices.Equal(after.Attach[l], ups) {
			t.Fatalf("leaf %s moved: %v -> %v", l, ups, after.Attach[l])
		}
	}
}

// TestPlanForcedAndShort: forced leaves leave too few candidates: the plan
// elects what it can and reports the short leaves.
func TestPlanForcedAndShort(t *testing.T) {
	view := View{Members: network(40, 6)}
	for i := range view.Members {
		view.Members[i].Forced = role.Leaf
	}
	view.Members[7].Forced = role.Ultrapeer
	cfg := DefaultPlanConfig()
	p := NewPlan(view, cfg)
	checkPlan(t, view, cfg, p)
	if !slices.Equal(p.Ultrapeers, []string{view.Members[7].ID}) || p.Count != 2 || p.PerLeaf != 1 {
		t.Fatalf("ultrapeers %v, count %d, per leaf %d", p.Ultrapeers, p.Count, p.PerLeaf)
	}
	if len(p.Short()) != 0 {
		t.Fatalf("short: %v", p.Short())
	}
}

func TestPlanFlood(t *testing.T) {
	cfg := DefaultPlanConfig()
	cfg.Flood = true
	view := View{Members: network(50, 7)}
	p := NewPlan(view, cfg)
	names := make([]string, len(view.Members))
	for i, c := range view.Members {
		names[i] = c.ID
	}
	if len(p.Ultrapeers) != 0 || len(p.Attach) != 0 || len(p.Mesh) != 50 {
		t.Fatalf("flood plan: %d ultrapeers, %d leaves, %d meshed", len(p.Ultrapeers), len(p.Attach), len(p.Mesh))
	}
	for _, id := range names {
		if want := Mesh(id, names, cfg.FloodDegree); !slices.Equal(p.Mesh[id], want) {
			t.Fatalf("%s: %v, want %v", id, p.Mesh[id], want)
		}
	}
}

func BenchmarkPlan10k(b *testing.B) {
	view := View{Members: network(10000, 1)}
	cfg := DefaultPlanConfig()
	for b.Loop() {
		NewPlan(view, cfg)
	}
}
