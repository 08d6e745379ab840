package daemon

import (
	"context"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
)

// Search limits.
const (
	maxSearchTimeout = time.Minute
	minSearchTimeout = 100 * time.Millisecond
	// searchRetryAfter is the fraction of the timeout after which a search
	// with no answer is sent again under a new GUID (a lost datagram
	// should not cost a search).
	searchRetryAfter = 0.35
	// searchQueue is how many undelivered events a search buffers; more
	// from a fast network are dropped (see searches.deliver).
	searchQueue = 256
)

// queryNet is what a searcher needs from the node: sending a query and
// knowing whom to wait for. Its methods are called concurrently.
type queryNet interface {
	// originate has the routing core originate q under g, sends what
	// that sends, and returns the result (hits delivered at once,
	// answers this node gave itself). It does not block on the network.
	originate(g query.GUID, q *query.Query) query.Result
	// answerers returns the nodes a search waits for, nil when it must
	// run to its timeout (see Daemon's searchNode).
	answerers() []string
	// unattached reports whether this node is a leaf attached to no
	// ultrapeer, so that a search cannot leave it.
	unattached() bool
}

// searcher runs the node's searches: it sends each into the network
// through a queryNet, receives the routing core's deliveries through its
// searches table and groups them into results. Safe for concurrent use.
type searcher struct {
	net    queryNet
	routes *searches
}

// newSearcher returns a searcher sending through net; the node hands what
// its routing core delivers to routes.
func newSearcher(net queryNet, routes *searches) *searcher {
	return &searcher{net: net, routes: routes}
}

// searchRun is the state of one search.
type searchRun struct {
	s       *searcher
	q       *query.Query
	max     int
	words   []string
	fn      func(api.Result)
	start   time.Time
	done    api.SearchDone
	waiting map[query.PeerID]bool // answerers yet to answer completely
	events  chan searchEvent
	current query.GUID // the GUID last sent
	results map[content.Hash]*api.Result
}

// search sends req into the network and calls fn with every result
// (grouped by content hash, growing sources and names) until every node it
// waits for has answered (queryNet.answerers), the routing core ends the
// query, req.Max results, the timeout, or ctx ends. A search with no hit
// is sent again under a new GUID after searchRetryAfter of the timeout.
// It blocks; it returns the summary. req.Hash must be valid.
func (s *searcher) search(ctx context.Context, req api.SearchRequest, fn func(api.Result)) api.SearchDone {
	run := s.newRun(req, fn)
	defer s.routes.remove(run.events)
	timeout := min(max(req.Timeout, minSearchTimeout), maxSearchTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	run.originate()
	retry := time.NewTimer(time.Duration(float64(timeout) * searchRetryAfter))
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return run.finish()
		case <-retry.C:
			if run.done.Hits == 0 {
				run.originate()
			}
		case ev := <-run.events:
			if run.handle(ev) {
				return run.finish()
			}
		}
	}
}

// newRun prepares the search for req.
func (s *searcher) newRun(req api.SearchRequest, fn func(api.Result)) *searchRun {
	q := &query.Query{Criteria: strings.Join(req.Words, " ")}
	if req.Hash != "" {
		q.Hash, _ = content.ParseHash(req.Hash) // validated by the caller
	}
	run := &searchRun{
		s: s, q: q, max: req.Max, words: q.Words(), fn: fn, start: time.Now(),
		waiting: map[query.PeerID]bool{},
		events:  make(chan searchEvent, searchQueue),
		results: map[content.Hash]*api.Result{},
	}
	if s.net.unattached() {
		run.done.Warning = "this leaf is attached to no ultrapeer (none reachable yet): the search cannot leave this node; check `servent peers`"
	}
	for _, n := range s.net.answerers() {
		run.waiting[query.PeerID(n)] = true
	}
	q.WantAnswered = len(run.waiting) > 0
	return run
}

// originate sends the query under a new GUID.
func (run *searchRun) originate() {
	g := newGUID()
	run.current = g
	run.s.routes.add(g, run.events)
	run.s.routes.deliver(run.s.net.originate(g, run.q))
}

// finish is the summary of the ended search.
func (run *searchRun) finish() api.SearchDone {
	run.done.Elapsed = time.Since(run.start)
	return run.done
}

// handle takes one event and reports whether the search is over.
func (run *searchRun) handle(ev searchEvent) bool {
	switch {
	case ev.ended != (query.GUID{}):
		// An earlier GUID's end does not end the search sent again.
		run.done.Searched = ev.ended == run.current
		return run.done.Searched
	case ev.hit == nil:
		delete(run.waiting, ev.answered)
		run.done.Complete = run.q.WantAnswered && len(run.waiting) == 0
		return run.done.Complete
	default:
		return run.addHit(ev.hit)
	}
}

// addHit merges a hit into the results, calls fn with every result it
// changed, and reports whether max results are reached.
func (run *searchRun) addHit(h *query.Descriptor) bool {
	if run.done.Hits == 0 {
		run.done.FirstHit = time.Since(run.start)
	}
	run.done.Hits++
	full := func() bool { return run.max > 0 && len(run.results) >= run.max }
	for _, fr := range h.Hit.Results {
		src := hitSource(h.Hit)
		src.Partial = fr.Partial
		r, ok := run.results[fr.Hash]
		if !ok {
			if full() {
				continue
			}
			r = &api.Result{Name: fr.Name, Size: int64(fr.Size), Hash: fr.Hash.String()}
			run.results[fr.Hash] = r
			run.done.Results++
		}
		named := addName(r, fr.Name, run.words)
		known := hasSource(r.Sources, src)
		if known && !named {
			continue
		}
		if !known && len(r.Sources) < maxSourcesPerResult {
			r.Sources = append(r.Sources, src)
		}
		out := *r
		out.Sources, out.Names = slices.Clone(r.Sources), slices.Clone(r.Names)
		run.fn(out)
	}
	return full()
}

// addName records a name a peer gave r's content and reports whether it is
// new. The name matching most query words exactly becomes r.Name.
func addName(r *api.Result, name string, words []string) bool {
	if slices.Contains(r.Names, name) {
		return false
	}
	_, exact := query.MatchFile(words, content.Keywords(name))
	if len(r.Names) == 0 || exact > r.Exact {
		r.Name, r.Exact = name, exact
		r.Names = append([]string{name}, r.Names...)
	} else {
		r.Names = append(r.Names, name)
	}
	return true
}

func hasSource(srcs []api.Source, s api.Source) bool {
	for _, x := range srcs {
		if x.Name == s.Name && x.Addr == s.Addr {
			return true
		}
	}
	return false
}

// hitSource is the peer a QueryHit names as holding its files.
func hitSource(h *query.QueryHit) api.Source {
	port := h.QUICPort
	if port == 0 {
		port = h.Port
	}
	addr := h.Addr
	if h.IPv6.IsValid() {
		addr = h.IPv6
	}
	return api.Source{Name: h.Node, Addr: netip.AddrPortFrom(addr, port).String(), Fingerprint: hex.EncodeToString(h.Fingerprint[:])}
}
