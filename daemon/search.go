package daemon

import (
	"encoding/hex"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
)

// Search limits.
const (
	maxSearchTimeout = time.Minute
	// searchRetryAfter is the fraction of the timeout after which a search
	// with no answer is sent again under a new GUID (a lost datagram
	// should not cost a search).
	searchRetryAfter = 0.35
)

// searches routes what the routing core delivers (hits, completed
// answers) to the searches waiting for it. Safe for concurrent use.
type searches struct {
	mu   sync.Mutex
	byID map[query.GUID]chan searchEvent
}

// searchEvent is a hit, a node that has answered completely, or the end
// of the dynamic query run for query ended.
type searchEvent struct {
	hit      *query.Descriptor
	answered query.PeerID
	ended    query.GUID
}

func (s *searches) add(g query.GUID, ch chan searchEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = make(map[query.GUID]chan searchEvent)
	}
	s.byID[g] = ch
}

// deliver hands res's hits and answers to their searches; those for
// finished searches, or beyond what a slow reader takes, are dropped.
func (s *searches) deliver(res query.Result) {
	if len(res.Delivered) == 0 && len(res.Answered) == 0 && len(res.Done) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	send := func(g query.GUID, ev searchEvent) {
		if ch := s.byID[g]; ch != nil {
			select {
			case ch <- ev:
			default:
			}
		}
	}
	for _, d := range res.Delivered {
		send(d.GUID, searchEvent{hit: d})
	}
	for _, a := range res.Answered {
		send(a.GUID, searchEvent{answered: a.Node})
	}
	for _, g := range res.Done {
		send(g, searchEvent{ended: g})
	}
}

// answerers returns the nodes a search waits for: the elected ultrapeers
// (smart routing), or every member (flood). nil when there are more than
// query.MaxAnswering: then the search runs to its timeout.
func (d *Daemon) answerers() []string {
	var out []string
	if d.cfg.Routing == "flood" {
		for _, m := range d.ov.Members() {
			out = append(out, m.Name)
		}
	} else {
		d.topoMu.Lock()
		out = slices.Clone(d.topo.ultrapeers)
		d.topoMu.Unlock()
	}
	if len(out) > query.MaxAnswering || d.noAnswerMarks {
		return nil
	}
	return out
}

// search sends a query into the network and calls fn with every result
// (grouped by content hash, growing sources and names) until every node
// it waits for has answered (answerers), max results, the timeout, or
// stop. It blocks; it returns the summary.
func (d *Daemon) search(req api.SearchRequest, stop <-chan struct{}, fn func(api.Result)) api.SearchDone {
	start := time.Now()
	q := &query.Query{Criteria: strings.Join(req.Words, " ")}
	if req.Hash != "" {
		q.Hash, _ = content.ParseHash(req.Hash) // validated by the caller
	}
	timeout := min(max(req.Timeout, 100*time.Millisecond), maxSearchTimeout)
	done := api.SearchDone{}
	if d.role() == role.Leaf && len(d.leaves.attached()) == 0 {
		done.Warning = "this leaf is attached to no ultrapeer (none reachable yet): the search cannot leave this node; check `servent peers`"
	}
	waiting := map[query.PeerID]bool{}
	for _, n := range d.answerers() {
		waiting[query.PeerID(n)] = true
	}
	q.WantAnswered = len(waiting) > 0
	events := make(chan searchEvent, 256)
	var current query.GUID // the GUID last sent
	originate := func() {
		g := newGUID()
		current = g
		d.searches.add(g, events)
		var res query.Result
		d.withRouter(func(r *query.Router) { res = r.Originate(time.Now(), g, q, uint8(d.cfg.TTL)) })
		d.sendAll(res.Send)
		d.searches.deliver(res)
		d.wakeDynamic()
	}
	defer func() {
		d.searches.mu.Lock()
		for g, ch := range d.searches.byID {
			if ch == events {
				delete(d.searches.byID, g)
			}
		}
		d.searches.mu.Unlock()
	}()
	originate()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	retry := time.NewTimer(time.Duration(float64(timeout) * searchRetryAfter))
	defer retry.Stop()
	words := q.Words()
	results := map[content.Hash]*api.Result{}
	finish := func() api.SearchDone {
		done.Elapsed = time.Since(start)
		return done
	}
	for {
		select {
		case <-stop:
			return finish()
		case <-deadline.C:
			return finish()
		case <-retry.C:
			if done.Hits == 0 {
				originate()
			}
		case ev := <-events:
			if ev.ended != (query.GUID{}) {
				if ev.ended == current {
					done.Searched = true
					return finish()
				}
				continue
			}
			if ev.hit == nil {
				delete(waiting, ev.answered)
				if q.WantAnswered && len(waiting) == 0 {
					done.Complete = true
					return finish()
				}
				continue
			}
			h := ev.hit
			if done.Hits == 0 {
				done.FirstHit = time.Since(start)
			}
			done.Hits++
			src := hitSource(h.Hit)
			for _, fr := range h.Hit.Results {
				r, ok := results[fr.Hash]
				if !ok {
					if req.Max > 0 && len(results) >= req.Max {
						continue
					}
					r = &api.Result{Name: fr.Name, Size: int64(fr.Size), Hash: fr.Hash.String()}
					results[fr.Hash] = r
					done.Results++
				}
				named := addName(r, fr.Name, words)
				if hasSource(r.Sources, src) && !named {
					continue
				}
				if !hasSource(r.Sources, src) && len(r.Sources) < maxSourcesPerResult {
					r.Sources = append(r.Sources, src)
				}
				out := *r
				out.Sources, out.Names = slices.Clone(r.Sources), slices.Clone(r.Names)
				fn(out)
			}
			if req.Max > 0 && len(results) >= req.Max {
				return finish()
			}
		}
	}
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

// serveSearch is the control API's streaming search.
func (d *Daemon) serveSearch(w http.ResponseWriter, r *http.Request) {
	var req api.SearchRequest
	if !decodeRequest(w, r, &req) {
		return
	}
	if req.Hash != "" {
		h, err := content.ParseHash(req.Hash)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Hash = h.String()
	}
	if len(content.QueryWords(strings.Join(req.Words, " "))) == 0 && req.Hash == "" {
		http.Error(w, "nothing to search for: give words with letters or digits, or a hash", http.StatusBadRequest)
		return
	}
	es := newEventStream(w)
	done := d.search(req, r.Context().Done(), func(res api.Result) {
		es.send(api.SearchEvent{Result: &res})
	})
	es.send(api.SearchEvent{Done: &done})
}
