package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/query"
)

// counters reads every node's routing counters.
func (ln *liveNet) counters(ctx context.Context) ([]query.Counters, error) {
	out := make([]query.Counters, len(ln.nodes))
	for i, n := range ln.nodes {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := n.client.Status(rctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: status: %w", ErrLive, n.name, err)
		}
		if out[i], err = decodeCounters(st.Query); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrLive, n.name, err)
		}
	}
	return out, nil
}

// decodeCounters turns Status.Query (decoded as generic JSON) back into
// query.Counters.
func decodeCounters(v any) (query.Counters, error) {
	var c query.Counters
	b, err := json.Marshal(v)
	if err != nil {
		return c, fmt.Errorf("query counters: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("query counters: %w", err)
	}
	return c, nil
}

// measure runs the workload at ttl and fills the row.
func (ln *liveNet) measure(ctx context.Context, ttl int) (Row, error) {
	work := ln.w.work
	t := liveTally{handled: make([]uint32, len(ln.nodes))}
	before, err := ln.counters(ctx)
	if err != nil {
		return Row{}, err
	}
	for qi, j := range work.queries {
		if ln.cfg.Progress != nil {
			ln.cfg.Progress(Progress{Nodes: len(ln.nodes), Stage: "live " + string(ln.mode), TTL: ttl, Query: qi, Queries: len(work.queries)})
		}
		fi := work.fileOf(j)
		holders := map[string]bool{}
		for _, h := range work.holders[fi] {
			holders[MemberName(int(h))] = true
		}
		done, sources, err := ln.search(ctx, int(j.origin), fileKeyword(fi))
		if err != nil {
			return Row{}, err
		}
		after, err := ln.counters(ctx)
		if err != nil {
			return Row{}, err
		}
		t.count(before, after, int(j.origin))
		t.recall(holders, sources, done.FirstHit)
		before = after
	}
	return ln.row(ttl, &t), nil
}

// liveTally adds up the workload's queries as measure runs them.
type liveTally struct {
	msgs, hits, dups, reached float64
	anyHit, found, copies     int
	latency                   time.Duration
	handled                   []uint32 // descriptors received, per node
}

// count adds one query's traffic, from every node's counters before and
// after it, per query its origin issued (a dynamic query issues several).
func (t *liveTally) count(before, after []query.Counters, origin int) {
	origins := float64(max(1, after[origin].Query.Originated-before[origin].Query.Originated))
	for v := range after {
		a, b := after[v], before[v]
		t.msgs += float64(a.Query.Sent-b.Query.Sent) / origins
		t.hits += float64(a.QueryHit.Sent-b.QueryHit.Sent) / origins
		t.dups += float64(a.Query.Dropped.Duplicate-b.Query.Dropped.Duplicate) / origins
		if v != origin && a.Query.Received > b.Query.Received {
			t.reached++
		}
		t.handled[v] += uint32(a.Query.Received - b.Query.Received + a.QueryHit.Received - b.QueryHit.Received)
	}
}

// recall adds one query's answer: which of the file's holders were found
// among the sources, and the first hit's latency when one was.
func (t *liveTally) recall(holders, sources map[string]bool, firstHit time.Duration) {
	got := 0
	for s := range sources {
		if holders[s] {
			got++
		}
	}
	t.found += got
	t.copies += len(holders)
	if got > 0 {
		t.anyHit++
		t.latency += firstHit
	}
}

// row turns the tally of the whole workload at ttl into the report's row.
func (ln *liveNet) row(ttl int, t *liveTally) Row {
	work := ln.w.work
	n := len(ln.nodes)
	q := float64(len(work.queries))
	var agg aggregate
	row := agg.row(len(work.queries), t.handled)
	row.Mode, row.Topology, row.Nodes, row.TTL, row.Queries = string(ln.mode), "live", n, ttl, len(work.queries)
	row.MsgsPerQuery, row.HitsPerQuery, row.Dups, row.Reached = t.msgs/q, t.hits/q, t.dups/q, t.reached/q
	row.RecallAny = float64(t.anyHit) / q
	row.RecallCopies = float64(t.found) / float64(max(1, t.copies))
	if t.anyHit > 0 {
		row.FirstHitLatency = t.latency / time.Duration(t.anyHit)
	}
	row.LowerBound = n - 1
	if ln.mode == ModeSmart {
		row.Ultrapeers = len(ln.w.hier.ups)
		row.LowerBound = row.Ultrapeers - 1
	}
	return row
}

// search runs one search from node origin and returns its summary and the
// names of the nodes that answered with the wanted file.
func (ln *liveNet) search(ctx context.Context, origin int, keyword string) (api.SearchDone, map[string]bool, error) {
	var done api.SearchDone
	sources := map[string]bool{}
	sctx, cancel := context.WithTimeout(ctx, ln.cfg.Timeout+10*time.Second)
	defer cancel()
	req := api.SearchRequest{Words: []string{keyword}, Timeout: ln.cfg.Timeout}
	err := ln.nodes[origin].client.Search(sctx, req, func(ev api.SearchEvent) {
		switch {
		case ev.Result != nil && strings.Contains(ev.Result.Name, keyword):
			for _, s := range ev.Result.Sources {
				sources[s.Name] = true
			}
		case ev.Done != nil:
			done = *ev.Done
		}
	})
	if err != nil {
		return done, nil, fmt.Errorf("%w: search from %s: %w", ErrLive, ln.nodes[origin].name, err)
	}
	return done, sources, nil
}
