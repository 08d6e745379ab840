package daemon

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/servent-p2p/servent/ultrapeer"
)

// How long a leaf avoids an ultrapeer that refused it: long when it is full,
// short when it was not (yet, or any more) an ultrapeer in its own view,
// which happens for a moment while roles change.
const (
	refusalMemoryFull  = 30 * time.Second
	refusalMemoryOther = 2 * time.Second
)

// ownIndex is what a leaf registers with its ultrapeers: who it is, and
// its shares as index entries. Safe for concurrent use.
type ownIndex interface {
	selfOwner() ultrapeer.Owner
	entries() []ultrapeer.Entry
}

var _ ownIndex = (*Daemon)(nil)

// leafAttacher keeps a leaf attached to its ultrapeers: one index session
// (leafSession) per ultrapeer its plan gives it, each registering the
// leaf's index, keeping it current with deltas and reconnecting, until the
// plan changes. A refusal is remembered for a while (refusedAt, an input
// of the next plan) and asks for a new plan at once, so a refused leaf
// turns to its next ultrapeer in rendezvous order without waiting for a
// tick. startNetwork builds it; the hierarchy loop drives it (sync,
// catalogChanged). Safe for concurrent use.
type leafAttacher struct {
	ctx     context.Context
	log     *slog.Logger
	dial    streamDialer
	index   ownIndex
	changed func() // the set of attached ultrapeers changed
	replan  func() // an ultrapeer refused: plan again now; must not block
	wg      sync.WaitGroup

	mu       sync.Mutex
	sessions map[string]*leafSession
	refused  map[string]time.Time
}

// newLeafAttacher returns an attacher whose sessions run until ctx ends.
// changed and replan are called from the sessions' goroutines.
func newLeafAttacher(ctx context.Context, log *slog.Logger, dial streamDialer, index ownIndex, changed, replan func()) *leafAttacher {
	return &leafAttacher{
		ctx: ctx, log: log, dial: dial, index: index, changed: changed, replan: replan,
		sessions: make(map[string]*leafSession),
		refused:  make(map[string]time.Time),
	}
}

// sync starts and stops sessions so that the leaf keeps one session with
// each ultrapeer of want, its plan (which has already left out the
// ultrapeers that refused it recently); nil for a node that is not a leaf.
func (a *leafAttacher) sync(want []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for up, s := range a.sessions {
		if !slices.Contains(want, up) {
			s.cancel()
			delete(a.sessions, up)
		}
	}
	for _, up := range want {
		if _, ok := a.sessions[up]; !ok {
			s := &leafSession{a: a, up: up, changed: make(chan struct{}, 1)}
			s.ctx, s.cancel = context.WithCancel(a.ctx)
			a.sessions[up] = s
			a.wg.Go(s.run)
		}
	}
}

// wait blocks until every session has ended (they end with the context
// given to newLeafAttacher).
func (a *leafAttacher) wait() { a.wg.Wait() }

// attached returns the ultrapeers that hold this leaf's index now, sorted.
func (a *leafAttacher) attached() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for up, s := range a.sessions {
		if s.attached.Load() {
			out = append(out, up)
		}
	}
	slices.Sort(out)
	return out
}

// catalogChanged tells every session to send a delta.
func (a *leafAttacher) catalogChanged() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.sessions {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}

// refusedAt returns the ultrapeers whose refusal still counts at now, and
// forgets the others.
func (a *leafAttacher) refusedAt(now time.Time) map[string]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]bool, len(a.refused))
	for up, until := range a.refused {
		if now.Before(until) {
			out[up] = true
		} else {
			delete(a.refused, up)
		}
	}
	return out
}

// refuse remembers that up refused this leaf for reason.
func (a *leafAttacher) refuse(up string, reason ultrapeer.RefuseReason) {
	memory := refusalMemoryOther
	if reason == ultrapeer.RefuseFull {
		memory = refusalMemoryFull
	}
	a.mu.Lock()
	a.refused[up] = time.Now().Add(memory)
	a.mu.Unlock()
}
