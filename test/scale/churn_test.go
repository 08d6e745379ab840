package scale

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/servent-p2p/servent/query"
)

// The churn benchmark's shape (the acceptance figures).
const (
	churnNodes   = 250
	churnKills   = churnNodes / 10 // SIGKILL and restart 10% ...
	churnPeriod  = 2 * time.Minute // ... spread over this
	churnRestart = 2 * time.Second // a killed host is down this long
	loadRate     = 50              // searches per second network-wide ...
	loadPeriod   = time.Minute     // ... for this long
)

// BenchmarkChurn250 starts 250 servents with the defaults, waits until
// they match the plan, then for 2 minutes SIGKILLs 25 of them one after
// the other (each restarted after 2 s on its old data) while one search a
// second looks for the file of a host that has been up for 10 s; it
// reports the share of searches that found their file and the longest time
// a leaf had fewer ultrapeers than the plan gives (sampled every 2 s).
// Then 50 searches a second for a minute from random origins; it reports
// the queries dropped by an origin's limit and by a link's (0 expected).
// Not in CI (it needs more than two cores):
//
//	go test -run '^$' -bench Churn250 -benchtime 1x -timeout 30m ./test/scale
func BenchmarkChurn250(b *testing.B) {
	ctx := context.Background()
	nodes, _ := startNetwork(b, churnNodes, "127.0.18.")
	if err := eventually(ctx, 2*settleLimit, func() error {
		_, err := matchesPlan(ctx, nodes)
		return err
	}); err != nil {
		b.Fatalf("not converged: %v", err)
	}
	rng := rand.New(rand.NewPCG(250, uint64(time.Now().UnixNano())))

	var (
		mu      sync.Mutex
		upSince = make([]time.Time, len(nodes)) // zero while down
	)
	for i := range upSince {
		upSince[i] = time.Now().Add(-time.Minute)
	}
	ready := func(age time.Duration) []int {
		mu.Lock()
		defer mu.Unlock()
		var out []int
		for i, t := range upSince {
			if !t.IsZero() && time.Since(t) >= age {
				out = append(out, i)
			}
		}
		return out
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var found, tried atomic.Int64
	wg.Go(func() { // one search a second
		rng := rand.New(rand.NewPCG(251, uint64(time.Now().UnixNano())))
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			up := ready(10 * time.Second)
			if len(up) < 2 {
				continue
			}
			o, f := up[rng.IntN(len(up))], up[rng.IntN(len(up))]
			if o == f {
				continue
			}
			tried.Add(1)
			if err := search(ctx, nodes[o], nodes[f]); err == nil {
				found.Add(1)
			} else {
				b.Logf("churn search: %v", err)
			}
		}
	})
	var longestShort time.Duration
	wg.Go(func() { // leaves short of ultrapeers, every 2 s
		shortSince := map[string]time.Time{}
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			var alive []*node
			for _, i := range ready(0) {
				alive = append(alive, nodes[i])
			}
			sts, _ := statuses(ctx, alive)
			now := time.Now()
			seen := map[string]bool{}
			for _, st := range sts {
				if st.Role != "leaf" || len(st.AttachedTo) >= min(3, len(st.Ultrapeers)) {
					continue
				}
				seen[st.Name] = true
				if _, ok := shortSince[st.Name]; !ok {
					shortSince[st.Name] = now
				}
				longestShort = max(longestShort, now.Sub(shortSince[st.Name]))
			}
			for name := range shortSince {
				if !seen[name] {
					delete(shortSince, name)
				}
			}
		}
	})
	bin := binary(b)
	for k := range churnKills {
		time.Sleep(churnPeriod / churnKills)
		i := 1 + rng.IntN(len(nodes)-1) // the seed stays up
		mu.Lock()
		upSince[i] = time.Time{}
		mu.Unlock()
		nodes[i].proc.Kill()
		time.Sleep(churnRestart)
		if err := start(ctx, bin, nodes[i], nodes[0].listen); err != nil {
			b.Fatalf("restart %d of %s: %v", k, nodes[i].name, err)
		}
		mu.Lock()
		upSince[i] = time.Now()
		mu.Unlock()
	}
	close(stop)
	wg.Wait()

	before := dropTotals(b, nodes)
	var loadTried, loadFound atomic.Int64
	var lwg sync.WaitGroup
	tick := time.NewTicker(time.Second / loadRate)
	for end := time.Now().Add(loadPeriod); time.Now().Before(end); <-tick.C {
		o, f := rng.IntN(len(nodes)), rng.IntN(len(nodes))
		if o == f {
			continue
		}
		lwg.Go(func() {
			loadTried.Add(1)
			if search(ctx, nodes[o], nodes[f]) == nil {
				loadFound.Add(1)
			}
		})
	}
	tick.Stop()
	lwg.Wait()
	after := dropTotals(b, nodes)

	success := float64(found.Load()) / float64(max(1, tried.Load()))
	b.ReportMetric(100*success, "churn-search-%")
	b.ReportMetric(longestShort.Seconds(), "longest-short-s")
	b.ReportMetric(100*float64(loadFound.Load())/float64(max(1, loadTried.Load())), "load-search-%")
	b.ReportMetric(float64(after.RateLimited-before.RateLimited), "origin-limited")
	b.ReportMetric(float64(after.LinkRateLimited-before.LinkRateLimited), "link-limited")
	b.Logf("churn: %d kills over %v, %d/%d searches found, longest a leaf stayed short %v; load: %d/%d searches at %d/s found, drops: origin %d, link %d",
		churnKills, churnPeriod, found.Load(), tried.Load(), longestShort, loadFound.Load(), loadTried.Load(), loadRate,
		after.RateLimited-before.RateLimited, after.LinkRateLimited-before.LinkRateLimited)
}

// dropTotals sums every node's query drop counters.
func dropTotals(tb testing.TB, nodes []*node) query.Drops {
	tb.Helper()
	sts, err := statuses(context.Background(), nodes)
	if err != nil {
		tb.Fatal(err)
	}
	var sum query.Drops
	for _, st := range sts {
		raw, err := json.Marshal(st.Query)
		if err != nil {
			tb.Fatal(err)
		}
		var c query.Counters
		if err := json.Unmarshal(raw, &c); err != nil {
			tb.Fatal(err)
		}
		sum.RateLimited += c.Query.Dropped.RateLimited
		sum.LinkRateLimited += c.Query.Dropped.LinkRateLimited
	}
	return sum
}
