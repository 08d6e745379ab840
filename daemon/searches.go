package daemon

import (
	"sync"

	"github.com/servent-p2p/servent/query"
)

// searches routes what the routing core delivers (hits, completed
// answers, ends of dynamic queries) to the searches waiting for it, by
// GUID. Safe for concurrent use; the zero value is ready.
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

// add routes g's events to ch.
func (s *searches) add(g query.GUID, ch chan searchEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = make(map[query.GUID]chan searchEvent)
	}
	s.byID[g] = ch
}

// remove stops routing to ch, under every GUID it was added with.
func (s *searches) remove(ch chan searchEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for g, c := range s.byID {
		if c == ch {
			delete(s.byID, g)
		}
	}
}

// guids returns the GUIDs routed now, in no order.
func (s *searches) guids() []query.GUID {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]query.GUID, 0, len(s.byID))
	for g := range s.byID {
		out = append(out, g)
	}
	return out
}

// deliver hands res's hits and answers to their searches; those for
// finished searches, or beyond what a slow reader takes, are dropped.
// It does not block.
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
