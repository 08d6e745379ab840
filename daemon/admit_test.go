package daemon

import (
	"testing"
	"time"

	"github.com/servent-p2p/servent/ultrapeer"
)

func TestAdmits(t *testing.T) {
	cfg := ultrapeer.DefaultPlanConfig()
	cfg.Election.UltrapeersPerLeaf = 1
	cfg.Election.LeavesPerUltrapeer = 2
	var v ultrapeer.View
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		v.Members = append(v.Members, ultrapeer.Candidate{ID: id, Capacity: 10, Uptime: time.Hour})
	}
	p := ultrapeer.NewPlan(v, cfg)
	for leaf, ups := range p.Attach {
		fallback := ultrapeer.Attach(leaf, p.Ultrapeers, 2)
		for _, up := range p.Ultrapeers {
			want := up == ups[0] || up == fallback[0] || up == fallback[1]
			if got := admits(p, up, leaf); got != want {
				t.Errorf("admits(%s, %s) = %v, want %v (planned %v, rendezvous %v)", up, leaf, got, want, ups, fallback)
			}
		}
	}
}

// TestDisplaced pins the room-making rule on its own.
func TestDisplaced(t *testing.T) {
	planned := []string{"a", "c"}
	for _, c := range []struct {
		held   []string
		leaf   string
		max    int
		victim string
	}{
		{[]string{"a"}, "c", 2, ""},            // room left
		{[]string{"a", "b"}, "x", 2, ""},       // x planned elsewhere
		{[]string{"a", "b"}, "c", 2, "b"},      // c planned here, b not
		{[]string{"a", "c"}, "c", 2, ""},       // already held
		{[]string{"c", "a"}, "c", 2, ""},       // every held leaf planned
		{[]string{"b", "d"}, "a", 0, ""},       // no limit
		{[]string{"b", "d", "e"}, "a", 2, "b"}, // over the limit: the first unplanned
	} {
		victim, ok := displaced(c.held, planned, c.leaf, c.max)
		if victim != c.victim || ok != (c.victim != "") {
			t.Errorf("displaced(%v, %s, max %d) = %q %v, want %q", c.held, c.leaf, c.max, victim, ok, c.victim)
		}
	}
}
