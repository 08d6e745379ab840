package ultrapeer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/servent-p2p/servent/role"
)

// network builds n mature automatic candidates with pseudo-random
// capacities from seed.
func network(n int, seed uint64) []Candidate {
	rng := rand.New(rand.NewPCG(seed, 1))
	c := make([]Candidate, n)
	for i := range c {
		c[i] = Candidate{
			ID:       fmt.Sprintf("node-%03d", i),
			Capacity: float64(50 + rng.IntN(100)),
			Uptime:   time.Hour,
		}
	}
	return c
}

// markIncumbents sets Incumbent from the elected set.
func markIncumbents(c []Candidate, ups []string) {
	for i := range c {
		_, c[i].Incumbent = slices.BinarySearch(ups, c[i].ID)
	}
}

func TestUltrapeerCount(t *testing.T) {
	for _, tc := range []struct{ n, per, want int }{
		{0, 30, 1}, {1, 30, 1}, {30, 30, 1}, {31, 30, 2}, {40, 30, 2},
		{60, 30, 2}, {61, 30, 3}, {100000, 30, 3334}, {10, 0, 1}, {45, 5, 9},
	} {
		if got := UltrapeerCount(tc.n, tc.per); got != tc.want {
			t.Errorf("UltrapeerCount(%d, %d) = %d, want %d", tc.n, tc.per, got, tc.want)
		}
	}
}

func TestScore(t *testing.T) {
	for _, tc := range []struct {
		cap  float64
		up   time.Duration
		want float64
	}{
		{100, 0, 100},
		{100, 59 * time.Second, 100},
		{100, time.Minute, 112.5},
		{100, 2 * time.Minute, 112.5},
		{100, 3 * time.Minute, 125},
		{100, 255 * time.Minute, 200},
		{100, 1000 * time.Hour, 200},
		{-5, time.Hour, 0},
	} {
		if got := Score(tc.cap, tc.up); got != tc.want {
			t.Errorf("Score(%v, %v) = %v, want %v", tc.cap, tc.up, got, tc.want)
		}
	}
}

func TestCapacityScore(t *testing.T) {
	for _, tc := range []struct {
		cpus int
		mem  uint64
		link int
		want float64
	}{
		{4, 8 << 30, 1000, 122},
		{1, 512 << 20, 0, 12},
		{128, 1 << 40, 100000, 320 + 256 + 500},
		{-1, 0, -5, 0},
	} {
		if got := CapacityScore(tc.cpus, tc.mem, tc.link); got != tc.want {
			t.Errorf("CapacityScore(%d, %d, %d) = %v, want %v", tc.cpus, tc.mem, tc.link, got, tc.want)
		}
	}
}

func TestElectCountAndRanking(t *testing.T) {
	cfg := ElectionConfig{LeavesPerUltrapeer: 10}
	c := network(45, 1)
	got := Elect(c, cfg)
	if len(got) != 5 {
		t.Fatalf("got %d ultrapeers, want 5: %v", len(got), got)
	}
	byScore := slices.Clone(c)
	slices.SortFunc(byScore, func(a, b Candidate) int {
		if a.Capacity != b.Capacity {
			if a.Capacity > b.Capacity {
				return -1
			}
			return 1
		}
		return cmpString(a.ID, b.ID)
	})
	var want []string
	for _, b := range byScore[:5] {
		want = append(want, b.ID)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Elect = %v, want the 5 highest capacities %v", got, want)
	}
	if nan := Elect(c, ElectionConfig{LeavesPerUltrapeer: 10, Hysteresis: math.NaN()}); !slices.Equal(nan, want) {
		t.Fatalf("NaN hysteresis: %v", nan)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestElectDeterministic(t *testing.T) {
	cfg := DefaultElectionConfig()
	c := network(500, 2)
	// Ties on capacity are broken by ID.
	for i := range c {
		c[i].Capacity = float64(i % 3)
	}
	want := Elect(c, cfg)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		rng.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
		if got := Elect(c, cfg); !slices.Equal(got, want) {
			t.Fatalf("order-dependent result: %v vs %v", got, want)
		}
	}
	if !slices.IsSorted(want) {
		t.Fatalf("result not sorted: %v", want)
	}
}

func TestElectForced(t *testing.T) {
	cfg := ElectionConfig{LeavesPerUltrapeer: 30}
	c := network(40, 5)
	c[0].Capacity, c[0].Forced = 1000, role.Leaf // best, but forced leaf
	c[1].Capacity, c[1].Forced = 0, role.Ultrapeer
	c[2].Forced, c[3].Forced, c[4].Forced = role.Ultrapeer, role.Ultrapeer, role.Ultrapeer
	got := Elect(c, cfg)
	want := []string{c[1].ID, c[2].ID, c[3].ID, c[4].ID}
	if !slices.Equal(got, want) {
		t.Fatalf("Elect = %v, want only the 4 forced %v", got, want)
	}
	c[2].Forced, c[3].Forced, c[4].Forced = role.None, role.None, role.None
	got = Elect(c, cfg)
	if len(got) != 2 || !slices.Contains(got, c[1].ID) || slices.Contains(got, c[0].ID) {
		t.Fatalf("Elect = %v: want 2 with %s, without %s", got, c[1].ID, c[0].ID)
	}
}

// TestElectChurnKeepsRoles: 5 joins and 5 leaves of leaves in a 40-node
// network change no ultrapeer: young newcomers stronger than anyone, or,
// with no minimum uptime, mature newcomers stronger than anyone that leave
// again (only the hysteresis band keeps the roles then).
func TestElectChurnKeepsRoles(t *testing.T) {
	young := DefaultElectionConfig()
	noMin := young
	noMin.MinUptime = 0
	rng := rand.New(rand.NewPCG(8, 9))
	for _, tc := range []struct {
		name        string
		cfg         ElectionConfig
		newcomer    func(i int) Candidate
		leaveJoiner bool
	}{
		{"young and strong", young, func(i int) Candidate {
			return Candidate{ID: fmt.Sprintf("new-%d", i), Capacity: 1000}
		}, false},
		{"mature and strong", noMin, func(i int) Candidate {
			return Candidate{ID: fmt.Sprintf("new-%d", i), Capacity: 1000, Uptime: time.Hour}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			view := network(40, 7)
			ups := Elect(view, tc.cfg)
			markIncumbents(view, ups)
			if again := Elect(view, tc.cfg); !slices.Equal(again, ups) {
				t.Fatalf("not a fixpoint: %v then %v", ups, again)
			}
			for i := range 5 {
				view = append(view, tc.newcomer(i))
				if n := len(view); n != 41 {
					t.Fatalf("view has %d members", n)
				}
				if got := Elect(view, tc.cfg); !slices.Equal(got, ups) {
					t.Fatalf("join %d changed ultrapeers: %v -> %v", i, ups, got)
				}
				if tc.leaveJoiner {
					view = view[:len(view)-1]
				} else {
					gone := leafToRemove(view, rng)
					view = slices.DeleteFunc(view, func(c Candidate) bool { return c.ID == gone })
				}
				if got := Elect(view, tc.cfg); !slices.Equal(got, ups) {
					t.Fatalf("leave %d changed ultrapeers: %v -> %v", i, ups, got)
				}
			}
		})
	}
}

// leafToRemove picks a random non-incumbent of view.
func leafToRemove(view []Candidate, rng *rand.Rand) string {
	for {
		if c := view[rng.IntN(len(view))]; !c.Incumbent {
			return c.ID
		}
	}
}

func TestElectHysteresisBand(t *testing.T) {
	cfg := ElectionConfig{LeavesPerUltrapeer: 10, Hysteresis: 0.2}
	view := network(50, 11) // 5 slots, band ceil(6) = 6
	ups := Elect(view, cfg)
	markIncumbents(view, ups)
	strong := Candidate{ID: "strong-1", Capacity: 1000, Uptime: time.Hour}
	view = append(view[:49], strong) // a leaf replaced: still 50 members
	if got := Elect(view, cfg); !slices.Equal(got, ups) {
		t.Fatalf("newcomer within the band displaced an incumbent: %v -> %v", ups, got)
	}
	// A second strong newcomer pushes the weakest incumbent out of the
	// band; its slot goes to the best non-incumbent.
	view[48] = Candidate{ID: "strong-2", Capacity: 1000, Uptime: time.Hour}
	got := Elect(view, cfg)
	kept := 0
	for _, u := range ups {
		if slices.Contains(got, u) {
			kept++
		}
	}
	if len(got) != 5 || kept != 4 || !slices.Contains(got, "strong-1") {
		t.Fatalf("Elect = %v (from %v): want 4 incumbents kept plus strong-1", got, ups)
	}
	// Without hysteresis the first newcomer wins at once.
	view[48] = network(50, 11)[48]
	if got := Elect(view, ElectionConfig{LeavesPerUltrapeer: 10}); !slices.Contains(got, "strong-1") {
		t.Fatalf("without hysteresis: %v lacks strong-1", got)
	}
}

// TestElectCountShrinkKeeps: crossing the count boundary back and forth
// does not demote and re-promote.
func TestElectCountShrinkKeeps(t *testing.T) {
	cfg := DefaultElectionConfig()
	cfg.MaxLeaves = 0 // the boundary of ceil(members / 30) alone
	view := network(61, 13)
	ups := Elect(view, cfg)
	if len(ups) != 3 {
		t.Fatalf("61 members: %d ultrapeers, want 3", len(ups))
	}
	markIncumbents(view, ups)
	for i := len(view) - 1; ; i-- {
		if !view[i].Incumbent {
			view = slices.Delete(view, i, i+1)
			break
		}
	}
	// The count is the rule's: one incumbent steps down, no newcomer enters.
	got := Elect(view, cfg)
	if len(got) != 2 {
		t.Fatalf("60 members: %v, want 2 ultrapeers", got)
	}
	for _, id := range got {
		if !slices.Contains(ups, id) {
			t.Fatalf("60 members: %v, want only incumbents of %v", got, ups)
		}
	}
	for i := range view {
		view[i].Incumbent = false
	}
	if got := Elect(view, cfg); len(got) != 2 {
		t.Fatalf("60 members, no incumbents: %v, want 2", got)
	}
}

func TestElectFewEligible(t *testing.T) {
	cfg := ElectionConfig{LeavesPerUltrapeer: 10, MinCapacity: 100, MinUptime: time.Minute}
	view := network(30, 17) // 3 slots
	for i := range view {
		view[i].Capacity = 10 // below the floor
	}
	view[5].Capacity, view[5].Uptime = 200, time.Second // eligible but young
	view[6].Capacity = 150                              // eligible and mature
	got := Elect(view, cfg)
	if want := []string{view[5].ID, view[6].ID}; !slices.Equal(got, want) {
		t.Fatalf("Elect = %v, want what exists %v", got, want)
	}
	// Nobody eligible: the best automatic member below the floor.
	for i := range view {
		view[i].Capacity = float64(i)
	}
	view[29].Forced = role.Leaf
	if got := Elect(view, cfg); !slices.Equal(got, []string{view[28].ID}) {
		t.Fatalf("Elect = %v, want the fallback %s", got, view[28].ID)
	}
	for i := range view {
		view[i].Forced = role.Leaf
	}
	if got := Elect(view, cfg); len(got) != 0 {
		t.Fatalf("all forced leaves: %v", got)
	}
	if got := Elect(nil, cfg); len(got) != 0 {
		t.Fatalf("empty view: %v", got)
	}
}

func TestElectMatureFirst(t *testing.T) {
	cfg := ElectionConfig{LeavesPerUltrapeer: 30, MinUptime: time.Minute}
	view := network(30, 19)
	view[0].Capacity, view[0].Uptime = 10000, 0
	if got := Elect(view, cfg); slices.Contains(got, view[0].ID) {
		t.Fatalf("young node elected over mature ones: %v", got)
	}
}

func BenchmarkElect100k(b *testing.B) {
	view := network(100000, 23)
	cfg := DefaultElectionConfig()
	markIncumbents(view, Elect(view, cfg))
	b.ReportAllocs()
	for b.Loop() {
		Elect(view, cfg)
	}
}
