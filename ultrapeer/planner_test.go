package ultrapeer

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/servent-p2p/servent/role"
)

// mutate changes view the way a membership does between two plans: one
// or a few of a join, a leave, an incumbency flip, an uptime step, a
// capacity change, a forced role, or nothing at all.
func mutate(rng *rand.Rand, members []Candidate, next *int) []Candidate {
	members = slices.Clone(members)
	for range rng.IntN(3) {
		i := rng.IntN(len(members))
		switch rng.IntN(7) {
		case 0:
			*next++
			members = append(members, Candidate{ID: fmt.Sprintf("new-%04d", *next), Capacity: float64(50 + rng.IntN(100))})
		case 1:
			if len(members) > 1 {
				members = slices.Delete(members, i, i+1)
			}
		case 2:
			members[i].Incumbent = !members[i].Incumbent
		case 3:
			members[i].Uptime += time.Duration(rng.IntN(90)) * time.Second
		case 4:
			members[i].Capacity = float64(50 + rng.IntN(100))
		case 5:
			members[i].Forced = role.Role(rng.IntN(3))
		case 6:
			// an uptime change inside one step: the same plan
			members[i].Uptime += time.Millisecond
		}
	}
	rng.Shuffle(len(members), func(a, b int) { members[a], members[b] = members[b], members[a] })
	return members
}

// TestPlannerEqualsNewPlan: on random sequences of views, with and without
// a binding cap and with occasional refusals, the Planner's plan equals
// NewPlan's for every view.
func TestPlannerEqualsNewPlan(t *testing.T) {
	tight := DefaultPlanConfig()
	tight.Election.MaxLeaves = 40
	flood := DefaultPlanConfig()
	flood.Flood = true
	for name, cfg := range map[string]PlanConfig{"defaults": DefaultPlanConfig(), "cap 40": tight, "flood": flood} {
		for _, n := range []int{1, 7, 120, 400} {
			t.Run(fmt.Sprintf("%s/%d", name, n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), 9))
				members := network(n, uint64(n))
				for i := range members {
					members[i].Uptime = time.Duration(rng.IntN(600)) * time.Second
				}
				pl := NewPlanner(cfg)
				next := 0
				for step := range 60 {
					members = mutate(rng, members, &next)
					view := View{Members: members}
					if rng.IntN(5) == 0 {
						bad := members[rng.IntN(len(members))].ID
						view.Refused = func(_, up string) bool { return up == bad }
					}
					got, want := pl.Plan(view), NewPlan(view, cfg)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("step %d: the planner's plan differs from NewPlan's", step)
					}
					if !cfg.Flood {
						checkPlan(t, view, cfg, got)
					}
				}
			})
		}
	}
}

// TestPlannerRemembers: an unchanged view, or one whose uptimes moved
// inside their steps, returns the same plan without recomputing it.
func TestPlannerRemembers(t *testing.T) {
	members := network(200, 5)
	pl := NewPlanner(DefaultPlanConfig())
	first := pl.Plan(View{Members: members})
	later := slices.Clone(members)
	for i := range later {
		later[i].Uptime += time.Second // an hour and a second: the same step
	}
	slices.Reverse(later)
	again := pl.Plan(View{Members: later})
	if reflect.ValueOf(first.Attach).Pointer() != reflect.ValueOf(again.Attach).Pointer() {
		t.Fatal("an equivalent view was planned again")
	}
	later[0].Incumbent = !later[0].Incumbent
	if changed := pl.Plan(View{Members: later}); reflect.ValueOf(first.Attach).Pointer() == reflect.ValueOf(changed.Attach).Pointer() {
		t.Fatal("a changed view got the old plan")
	}
}

// BenchmarkPlanner10k plans a 10,000-member view fresh (NewPlan) and with
// a Planner that planned the view before one leaf joined (the common
// membership change), and reports how many times cheaper the second is
// (fresh/planner), both measured in this run.
func BenchmarkPlanner10k(b *testing.B) {
	members := network(10000, 1)
	cfg := DefaultPlanConfig()
	joined := append(slices.Clone(members), Candidate{ID: "node-joined", Capacity: 60, Uptime: time.Second})
	start := time.Now()
	const freshRuns = 3
	for range freshRuns {
		NewPlan(View{Members: joined}, cfg)
	}
	fresh := time.Since(start) / freshRuns
	pl := NewPlanner(cfg)
	var took time.Duration
	for b.Loop() {
		b.StopTimer()
		pl.Plan(View{Members: members})
		b.StartTimer()
		t := time.Now()
		pl.Plan(View{Members: joined})
		took += time.Since(t)
	}
	b.ReportMetric(float64(fresh.Nanoseconds()), "fresh-ns/plan")
	b.ReportMetric(float64(fresh)/(float64(took)/float64(b.N)), "fresh/planner")
}

// BenchmarkPlannerUnchanged10k: the tick's case, a view equal to the last.
func BenchmarkPlannerUnchanged10k(b *testing.B) {
	view := View{Members: network(10000, 1)}
	pl := NewPlanner(DefaultPlanConfig())
	pl.Plan(view)
	for b.Loop() {
		pl.Plan(view)
	}
}
