package daemon

import (
	"slices"
	"testing"
	"time"

	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/role"
	"github.com/servent-p2p/servent/ultrapeer"
)

// TestViewOf: the planner sees the alive and suspect members, with the
// uptime at now, the forced role read from the capacity and incumbency
// from the published role; only self's refusals count.
func TestViewOf(t *testing.T) {
	now := time.Unix(10_000, 0)
	member := func(name string, st overlay.State, capacity float32, r role.Role, age time.Duration) overlay.Member {
		return overlay.Member{Name: name, State: st, Meta: overlay.Meta{Capacity: capacity, Role: r, Started: now.Add(-age)}}
	}
	v := viewOf([]overlay.Member{
		member("up", overlay.StateAlive, 5, role.Ultrapeer, time.Hour),
		member("slow", overlay.StateSuspect, ultrapeer.ForcedUltrapeerCapacity, role.Leaf, time.Minute),
		member("self", overlay.StateAlive, 0, role.Leaf, time.Second),
		member("dead", overlay.StateDead, 5, role.Ultrapeer, time.Hour),
		member("gone", overlay.StateLeft, 5, role.Leaf, time.Hour),
	}, now, "self", map[string]bool{"up": true})
	want := []ultrapeer.Candidate{
		{ID: "up", Capacity: 5, Uptime: time.Hour, Forced: role.None, Incumbent: true},
		{ID: "slow", Capacity: float64(ultrapeer.ForcedUltrapeerCapacity), Uptime: time.Minute, Forced: role.Ultrapeer},
		{ID: "self", Capacity: 0, Uptime: time.Second, Forced: role.Leaf},
	}
	if !slices.Equal(v.Members, want) {
		t.Fatalf("members %+v\nwant    %+v", v.Members, want)
	}
	if !v.Refused("self", "up") || v.Refused("other", "up") || v.Refused("self", "slow") {
		t.Error("refusals: only self's refusal by up counts")
	}
	if viewOf(nil, now, "self", map[string]bool{}).Refused != nil {
		t.Error("no refusals: Refused must be nil (the planner caches only such views)")
	}
}

// TestTopologyOf: each member's share of one plan: an ultrapeer's mesh
// neighbours with their degrees and its leaves, a leaf's ultrapeers (and
// whether it has too few), a flood node's neighbours.
func TestTopologyOf(t *testing.T) {
	cfg := ultrapeer.DefaultPlanConfig()
	cfg.Election.UltrapeersPerLeaf = 2
	var v ultrapeer.View
	for _, id := range []string{"u1", "u2", "u3"} {
		v.Members = append(v.Members, ultrapeer.Candidate{ID: id, Capacity: ultrapeer.ForcedUltrapeerCapacity, Forced: role.Ultrapeer, Uptime: time.Hour})
	}
	for _, id := range []string{"l1", "l2", "l3"} {
		v.Members = append(v.Members, ultrapeer.Candidate{ID: id, Forced: role.Leaf})
	}
	p := ultrapeer.NewPlan(v, cfg)
	for _, up := range p.Ultrapeers {
		tp := topologyOf(p, up, false)
		if tp.role != role.Ultrapeer || !slices.Equal(tp.neighbours, p.Mesh[up]) || !slices.Equal(tp.leaves, p.Leaves[up]) || tp.attach != nil {
			t.Errorf("%s: %+v", up, tp)
		}
		for _, n := range tp.neighbours {
			if tp.degrees[n] != len(p.Mesh[n]) {
				t.Errorf("%s: degree of %s %d, want %d", up, n, tp.degrees[n], len(p.Mesh[n]))
			}
		}
	}
	leaf := topologyOf(p, "l1", false)
	if leaf.role != role.Leaf || !slices.Equal(leaf.attach, p.Attach["l1"]) || len(leaf.attach) != 2 || leaf.short || leaf.neighbours != nil {
		t.Errorf("l1: %+v", leaf)
	}
	v.Refused = func(l, u string) bool { return l == "l1" && u != "u1" }
	if short := topologyOf(ultrapeer.NewPlan(v, cfg), "l1", false); !short.short || len(short.attach) != 1 {
		t.Errorf("l1 refused by two of three: %+v, want short with one ultrapeer", short)
	}
	cfg.Flood = true
	p = ultrapeer.NewPlan(v, cfg)
	if fl := topologyOf(p, "l1", true); fl.role != role.Flood || !slices.Equal(fl.neighbours, p.Mesh["l1"]) || len(fl.neighbours) == 0 {
		t.Errorf("flood: %+v", fl)
	}
}
