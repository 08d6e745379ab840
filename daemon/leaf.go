package daemon

import (
	"context"
	"log/slog"
	"maps"
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
// tick. When the plan moves on, an attached session it no longer gives is
// kept until the plan's own sessions are attached (make before break): a
// plan that returns to an ultrapeer that refuses again, or that is slow to
// answer, never leaves the leaf with fewer ultrapeers than it had.
// startNetwork builds it; the hierarchy loop drives it (sync,
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
	want     []string                // the plan's ultrapeers
	sessions map[string]*leafSession // the plan's, and attached ones kept (trim)
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

// sync makes want, the leaf's plan, the ultrapeers it keeps a session
// with (nil for a node that is not a leaf). The plan has already left out
// the ultrapeers that refused the leaf recently, unless it was computed
// before a refusal: no session starts with an ultrapeer whose refusal
// still counts (the replan the refusal asked for follows).
func (a *leafAttacher) sync(want []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.want = slices.Clone(want)
	now := time.Now()
	for _, up := range want {
		if _, ok := a.sessions[up]; ok || now.Before(a.refused[up]) {
			continue
		}
		a.log.Debug("index session started", "ultrapeer", up, "plan", want)
		s := &leafSession{a: a, up: up, changed: make(chan struct{}, 1)}
		s.ctx, s.cancel = context.WithCancel(a.ctx)
		a.sessions[up] = s
		a.wg.Go(s.run)
	}
	a.trim()
}

// trim stops the sessions the plan does not give, but keeps attached ones
// while fewer of the plan's sessions are attached than it gives, one for
// each missing: the leaf stays registered where it was until it is
// registered where it should be, and never with more ultrapeers than its
// plan gives. a.mu is held.
func (a *leafAttacher) trim() {
	missing := len(a.want)
	for _, up := range a.want {
		if s, ok := a.sessions[up]; ok && s.attached.Load() {
			missing--
		}
	}
	for _, up := range slices.Sorted(maps.Keys(a.sessions)) {
		s := a.sessions[up]
		if slices.Contains(a.want, up) {
			continue
		}
		if s.attached.Load() && missing > 0 {
			missing--
			continue
		}
		a.log.Debug("index session stopped: not planned", "ultrapeer", up, "attached", s.attached.Load(), "plan", a.want)
		s.cancel()
		delete(a.sessions, up)
	}
}

// setAttached records whether s holds the leaf's index now, stops the
// sessions that makes surplus (trim), and reports the change.
func (a *leafAttacher) setAttached(s *leafSession, attached bool) {
	a.mu.Lock()
	s.attached.Store(attached)
	a.trim()
	a.mu.Unlock()
	a.changed()
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

// refuse remembers that the ultrapeer of s, a session that has ended,
// refused this leaf for reason, and forgets s: the next plan that gives
// that ultrapeer (once the refusal no longer counts) starts a new session.
func (a *leafAttacher) refuse(s *leafSession, reason ultrapeer.RefuseReason) {
	memory := refusalMemoryOther
	if reason == ultrapeer.RefuseFull {
		memory = refusalMemoryFull
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refused[s.up] = time.Now().Add(memory)
	if a.sessions[s.up] == s {
		delete(a.sessions, s.up)
	}
}
