package daemon

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
)

// fakeQueryNet is a network for one searcher: it records what is sent and
// answers nothing by itself; the test delivers through routes.
type fakeQueryNet struct {
	routes  *searches
	waitFor []string
	alone   bool

	mu   sync.Mutex
	sent []query.GUID
	qs   []*query.Query
}

func (n *fakeQueryNet) originate(g query.GUID, q *query.Query) query.Result {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, g)
	n.qs = append(n.qs, q)
	return query.Result{}
}

func (n *fakeQueryNet) answerers() []string { return n.waitFor }
func (n *fakeQueryNet) unattached() bool    { return n.alone }

// last is the GUID last sent and how many were sent.
func (n *fakeQueryNet) last() (query.GUID, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.sent) == 0 {
		return query.GUID{}, 0
	}
	return n.sent[len(n.sent)-1], len(n.sent)
}

// hit delivers a hit from node for the GUID last sent.
func (n *fakeQueryNet) hit(node string, files ...query.FileResult) {
	g, _ := n.last()
	h := &query.QueryHit{Node: node, Addr: netip.MustParseAddr("127.0.0.9"), Port: 6346, Results: files}
	d := &query.Descriptor{Header: query.Header{GUID: g, Type: query.TypeQueryHit}, Hit: h}
	n.routes.deliver(query.Result{Delivered: []*query.Descriptor{d}})
}

func newFakeSearcher(waitFor ...string) (*searcher, *fakeQueryNet) {
	routes := &searches{}
	n := &fakeQueryNet{routes: routes, waitFor: waitFor}
	return newSearcher(n, routes), n
}

func file(name string, b byte) query.FileResult {
	var h content.Hash
	h[0] = b
	return query.FileResult{Name: name, Size: 10, Hash: h}
}

// searchAsync runs a search in a goroutine; wait returns its summary and
// every result it reported.
func searchAsync(ctx context.Context, s *searcher, req api.SearchRequest) (wait func() (api.SearchDone, []api.Result)) {
	var results []api.Result
	ch := make(chan api.SearchDone, 1)
	go func() { ch <- s.search(ctx, req, func(r api.Result) { results = append(results, r) }) }()
	return func() (api.SearchDone, []api.Result) { d := <-ch; return d, results }
}

// TestSearcherRetry: a search with no hit is sent again, under a new
// GUID, after searchRetryAfter of its timeout, and runs to its timeout; a
// search with a hit by then is not sent again.
func TestSearcherRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, n := newFakeSearcher()
		done := s.search(t.Context(), api.SearchRequest{Words: []string{"doc"}, Timeout: 10 * time.Second}, func(api.Result) {})
		n.mu.Lock()
		sent := slices.Clone(n.sent)
		n.mu.Unlock()
		if len(sent) != 2 || sent[0] == sent[1] {
			t.Fatalf("sent %v, want two different GUIDs", sent)
		}
		if done.Elapsed != 10*time.Second || done.Complete || done.Searched {
			t.Errorf("summary %+v: want the timeout of 10 s", done)
		}
		if g := s.routes.guids(); len(g) != 0 {
			t.Errorf("the ended search is still routed: %v", g)
		}

		s, n = newFakeSearcher()
		wait := searchAsync(t.Context(), s, api.SearchRequest{Words: []string{"doc"}, Timeout: 10 * time.Second})
		synctest.Wait()
		n.hit("n1", file("doc.txt", 1))
		done, _ = wait()
		if _, count := n.last(); count != 1 || done.Hits != 1 {
			t.Errorf("sent %d times with %d hits, want once", count, done.Hits)
		}
	})
}

// TestSearcherOneRowPerHash: hits for the same content from two peers
// under two names make one result with both sources and names; the name
// matching the query best leads.
func TestSearcherOneRowPerHash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, n := newFakeSearcher()
		wait := searchAsync(t.Context(), s, api.SearchRequest{Words: []string{"evac", "plan"}, Timeout: time.Second})
		synctest.Wait()
		n.hit("n1", file("plan.txt", 1), file("other plan.txt", 2))
		n.hit("n2", file("evac plan.txt", 1))
		n.hit("n2", file("evac plan.txt", 1)) // nothing new: not reported
		done, results := wait()
		if done.Hits != 3 || done.Results != 2 || len(results) != 3 {
			t.Fatalf("%d hits, %d results, %d reports: want 3, 2, 3", done.Hits, done.Results, len(results))
		}
		last := results[2]
		if last.Name != "evac plan.txt" || len(last.Sources) != 2 || !slices.Equal(last.Names, []string{"evac plan.txt", "plan.txt"}) {
			t.Errorf("merged result %+v: want both sources, the better name first", last)
		}
		if results[0].Hash != last.Hash || len(results[0].Sources) != 1 {
			t.Errorf("first report %+v changed by later hits", results[0])
		}
	})
}

// TestSearcherMax: the search ends as soon as it has Max results; further
// files of the same hit are left out.
func TestSearcherMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, n := newFakeSearcher()
		wait := searchAsync(t.Context(), s, api.SearchRequest{Words: []string{"doc"}, Timeout: time.Minute, Max: 1})
		synctest.Wait()
		n.hit("n1", file("doc1", 1), file("doc2", 2))
		done, results := wait()
		if done.Results != 1 || len(results) != 1 || done.Elapsed != 0 {
			t.Errorf("%+v, %d reports: want 1 result at once", done, len(results))
		}
	})
}

// TestSearcherEnds: a search ends on its context, on the end notice of
// the GUID last sent (not an earlier one's), and when every answerer has
// answered.
func TestSearcherEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		s, _ := newFakeSearcher("u1")
		wait := searchAsync(ctx, s, api.SearchRequest{Words: []string{"doc"}, Timeout: time.Minute})
		time.Sleep(time.Second)
		cancel()
		if done, _ := wait(); done.Elapsed != time.Second || done.Complete {
			t.Errorf("cancelled after 1 s: %+v", done)
		}

		s, n := newFakeSearcher()
		wait = searchAsync(t.Context(), s, api.SearchRequest{Words: []string{"doc"}, Timeout: 10 * time.Second})
		time.Sleep(5 * time.Second) // sent again after 3.5 s
		n.mu.Lock()
		first := n.sent[0]
		n.mu.Unlock()
		n.routes.deliver(query.Result{Done: []query.GUID{first}}) // not the search now
		time.Sleep(time.Second)
		g, count := n.last()
		n.routes.deliver(query.Result{Done: []query.GUID{g}})
		if done, _ := wait(); !done.Searched || done.Elapsed != 6*time.Second || count != 2 {
			t.Errorf("end notice after 6 s (%d sent): %+v", count, done)
		}

		s, n = newFakeSearcher("u1", "u2")
		wait = searchAsync(t.Context(), s, api.SearchRequest{Words: []string{"doc"}, Timeout: time.Minute})
		synctest.Wait()
		g, _ = n.last()
		n.routes.deliver(query.Result{Answered: []query.Answered{{GUID: g, Node: "u1"}}})
		time.Sleep(time.Second)
		n.routes.deliver(query.Result{Answered: []query.Answered{{GUID: g, Node: "u2"}}})
		done, _ := wait()
		n.mu.Lock()
		asked := n.qs[0].WantAnswered
		n.mu.Unlock()
		if !done.Complete || done.Elapsed != time.Second || !asked {
			t.Errorf("both answerers answered after 1 s: %+v, answer marks asked: %v", done, asked)
		}
	})
}

// TestSearcherUnattached: a leaf attached to nothing says so.
func TestSearcherUnattached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, n := newFakeSearcher()
		n.alone = true
		done := s.search(t.Context(), api.SearchRequest{Words: []string{"doc"}}, func(api.Result) {})
		if done.Warning == "" || done.Elapsed != minSearchTimeout {
			t.Errorf("%+v: want a warning, the least timeout", done)
		}
	})
}
