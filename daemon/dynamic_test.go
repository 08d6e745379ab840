package daemon

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/query"

	"github.com/servent-p2p/servent/role"
)

// TestClusterDynamicQuery runs searches without answer marks (as on a
// network of more than query.MaxAnswering ultrapeers) on 20 real nodes
// with a partial ultrapeer mesh: the ultrapeer each leaf picks queries its
// mesh dynamically through real sockets and the daemon's ticking loop,
// every file is found, and every dynamic query ends.
func TestClusterDynamicQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("20 real nodes: skipped with -short")
	}
	c := startCluster(t, clusterOptions{nodes: 20, routing: "smart", leavesPerUltrapeer: 4, meshDegree: 2, ttl: 4})
	c.settled(90 * time.Second)
	var ups, leaves []*Daemon
	eventually(t, 30*time.Second, "ceil(20/4) = 5 ultrapeers", func() bool {
		ups, leaves = c.byRole(role.Ultrapeer), c.byRole(role.Leaf)
		return len(ups) == 5 && len(leaves) == 15
	})
	c.settled(30 * time.Second)
	for _, d := range c.nodes {
		d.noAnswerMarks = true
	}
	dynamic := func() (started, ended uint64) {
		for _, u := range ups {
			var dc query.DynamicCounters
			u.withRouter(func(r *query.Router) { dc = r.Counters().Dynamic })
			started += dc.Started
			ended += dc.Satisfied + dc.Exhausted + dc.Expired
		}
		return started, ended
	}
	s0, _ := dynamic()
	q0, u0 := c.queryTraffic()
	recall, lat := c.searchAll(leaves[:5], 3*time.Second)
	q1, u1 := c.queryTraffic()
	s1, _ := dynamic()
	searches := 5 * len(c.files)
	t.Logf("dynamic: %d searches, recall %.4f, first hit p50 %v p99 %v, %.1f query datagrams per search, %.1f between ultrapeers, %d dynamic queries",
		searches, recall, percentile(lat, 0.5), percentile(lat, 0.99), float64(q1-q0)/float64(searches), float64(u1-u0)/float64(searches), s1-s0)
	if recall != 1 {
		t.Errorf("recall %.4f, want 1", recall)
	}
	if s1-s0 < uint64(searches) {
		t.Errorf("%d dynamic queries for %d searches: the leaves' ultrapeers did not query dynamically", s1-s0, searches)
	}
	eventually(t, 10*time.Second, "every dynamic query ended", func() bool {
		started, ended := dynamic()
		return started == ended
	})
	// A search nobody can answer ends when the ultrapeer has tried the
	// whole mesh, not at its timeout.
	done := leaves[0].searcher.search(t.Context(), api.SearchRequest{Words: []string{"nosuchword"}, Timeout: 10 * time.Second}, func(api.Result) {})
	t.Logf("search without a match: ended after %v, searched=%v", done.Elapsed, done.Searched)
	if !done.Searched || done.Elapsed > 5*time.Second {
		t.Errorf("search without a match ended after %v, searched=%v: want the dynamic query's end, well before the 10 s timeout", done.Elapsed, done.Searched)
	}
}

// fakeDynamicCore has steps due at fixed times.
type fakeDynamicCore struct {
	mu    sync.Mutex
	due   []time.Time // sorted
	ticks []time.Time
}

func (c *fakeDynamicCore) nextTick() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.due) == 0 {
		return time.Time{}, false
	}
	return c.due[0], true
}

func (c *fakeDynamicCore) tick(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ticks = append(c.ticks, now)
	for len(c.due) > 0 && !c.due[0].After(now) {
		c.due = c.due[1:]
	}
}

func (c *fakeDynamicCore) add(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.due = append(c.due, at)
}

func (c *fakeDynamicCore) ticked() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ticks)
}

// TestRunDynamic: steps run when due; a step added while the loop sleeps
// runs once the loop is woken; the loop ends with its context.
func TestRunDynamic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		core := &fakeDynamicCore{due: []time.Time{start.Add(time.Second), start.Add(3 * time.Second)}}
		ctx, cancel := context.WithCancel(t.Context())
		wake := make(chan struct{}, 1)
		ended := make(chan struct{})
		go func() {
			runDynamic(ctx, core, wake)
			close(ended)
		}()
		time.Sleep(10 * time.Second)
		want := []time.Time{start.Add(time.Second), start.Add(3 * time.Second)}
		if got := core.ticked(); !slices.Equal(got, want) {
			t.Fatalf("ticked at %v, want %v", got, want)
		}
		core.add(start.Add(12 * time.Second)) // a query started while idle
		wake <- struct{}{}
		time.Sleep(5 * time.Second)
		if got := core.ticked(); len(got) != 3 || !got[2].Equal(start.Add(12*time.Second)) {
			t.Fatalf("after waking: ticked at %v, want a third tick at 12 s", got)
		}
		cancel()
		synctest.Wait()
		select {
		case <-ended:
		default:
			t.Fatal("the loop did not end with its context")
		}
	})
}
