package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/role"
	"github.com/servent-p2p/servent/ultrapeer"
)

// How long a leaf avoids an ultrapeer that refused it: long when it is full,
// short when it was not (yet, or any more) an ultrapeer in its own view,
// which happens for a moment while roles change.
const (
	refusalMemoryFull  = 30 * time.Second
	refusalMemoryOther = 2 * time.Second
)

// leafSessions keeps a leaf attached to its ultrapeers: one index session
// per chosen ultrapeer, re-chosen when the topology changes or one refuses.
// Safe for concurrent use.
type leafSessions struct {
	d *Daemon

	mu       sync.Mutex
	sessions map[string]*leafSession
	refused  map[string]time.Time
}

func newLeafSessions(d *Daemon) *leafSessions {
	return &leafSessions{d: d, sessions: make(map[string]*leafSession), refused: make(map[string]time.Time)}
}

// sync starts and stops sessions so that a leaf keeps one session with
// each ultrapeer its plan gives it (the planner has already left out the
// ultrapeers that refused it recently). Called by the hierarchy loop.
func (l *leafSessions) sync(t topology) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var want []string
	if t.role == role.Leaf {
		want = t.attach
	}
	for up, s := range l.sessions {
		if !slices.Contains(want, up) {
			s.stop()
			delete(l.sessions, up)
		}
	}
	for _, up := range want {
		if _, ok := l.sessions[up]; !ok {
			s := &leafSession{l: l, up: up, changed: make(chan struct{}, 1)}
			s.ctx, s.cancel = context.WithCancel(l.d.ctx)
			l.sessions[up] = s
			l.d.goFunc(s.run)
		}
	}
}

// attached returns the ultrapeers that hold this leaf's index now.
func (l *leafSessions) attached() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for up, s := range l.sessions {
		if s.attached.Load() {
			out = append(out, up)
		}
	}
	slices.Sort(out)
	return out
}

// catalogChanged tells every session to send a delta.
func (l *leafSessions) catalogChanged() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.sessions {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}

// refusedAt returns the ultrapeers whose refusal still counts at now, and
// forgets the others.
func (l *leafSessions) refusedAt(now time.Time) map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]bool, len(l.refused))
	for up, until := range l.refused {
		if now.Before(until) {
			out[up] = true
		} else {
			delete(l.refused, up)
		}
	}
	return out
}

// refuse remembers that up refused this leaf for reason.
func (l *leafSessions) refuse(up string, reason ultrapeer.RefuseReason) {
	memory := refusalMemoryOther
	if reason == ultrapeer.RefuseFull {
		memory = refusalMemoryFull
	}
	l.mu.Lock()
	l.refused[up] = time.Now().Add(memory)
	l.mu.Unlock()
}

// leafSession registers the leaf's index with one ultrapeer and keeps it
// current with deltas, reconnecting until stopped.
type leafSession struct {
	l        *leafSessions
	up       string
	ctx      context.Context
	cancel   context.CancelFunc
	changed  chan struct{}
	attached atomic.Bool
}

func (s *leafSession) stop() { s.cancel() }

func (s *leafSession) run() {
	d := s.l.d
	backoff := 250 * time.Millisecond
	for s.ctx.Err() == nil {
		err := s.session()
		if s.attached.Swap(false) {
			d.updateRouter()
		}
		var refused *refusedError
		if errors.As(err, &refused) {
			d.log.Info("ultrapeer refused this leaf", "ultrapeer", s.up, "reason", refused.reason)
			s.l.refuse(s.up, refused.reason)
			d.kickHierarchy()
			return
		}
		if s.ctx.Err() != nil {
			return
		}
		d.log.Debug("index session ended", "ultrapeer", s.up, "err", err)
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

type refusedError struct{ reason ultrapeer.RefuseReason }

func (e *refusedError) Error() string { return "refused: " + e.reason.String() }

// session runs one connection: full registration, then deltas.
func (s *leafSession) session() error {
	d := s.l.d
	dialCtx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	conn, err := d.ov.DialMember(dialCtx, s.up, ultrapeer.ALPNIndex)
	cancel()
	if noALPN(err) {
		d.log.Warn("the ultrapeer does not speak this servent's index protocol (an older or newer servent): run the same version on every node",
			"ultrapeer", s.up, "protocol", ultrapeer.ALPNIndex)
		return &refusedError{reason: ultrapeer.RefuseFull} // kept away as long as a full one
	}
	if err != nil {
		return err
	}
	defer conn.CloseWithError(0, "")
	stream, err := conn.OpenStreamSync(s.ctx)
	if err != nil {
		return err
	}
	defer stream.Close()
	owner := d.selfOwner()
	snapshot := d.entries()
	version := uint64(1)
	send := func(u ultrapeer.Update, register bool) error {
		ack, err := sendUpdate(stream, owner, u, register)
		if err == nil && ack.Dropped > 0 {
			d.log.Warn("the ultrapeer's budget per leaf holds only part of this node's shares: the rest cannot be found through it",
				"ultrapeer", s.up, "left_out", ack.Dropped, "files", len(snapshot))
		}
		return err
	}
	full := func() error {
		return send(ultrapeer.Update{Full: true, ToVersion: version, Add: snapshot}, true)
	}
	if err := full(); err != nil {
		return err
	}
	s.attached.Store(true)
	d.updateRouter()
	d.log.Info("attached to ultrapeer", "ultrapeer", s.up, "files", len(snapshot))
	for {
		select {
		case <-s.ctx.Done():
			return s.ctx.Err()
		case <-conn.Context().Done():
			return context.Cause(conn.Context())
		case <-s.changed:
		}
		next := d.entries()
		u, ok := ultrapeer.Delta(version, snapshot, next)
		if !ok {
			continue
		}
		snapshot, version = next, u.ToVersion
		err := send(u, false)
		var refused *refusedError
		if errors.As(err, &refused) && refused.reason == ultrapeer.RefuseVersionGap {
			err = full()
		}
		if err != nil {
			return err
		}
	}
}

// indexFrameTimeout bounds each frame of an index session, the wait an
// ultrapeer's rate limit imposes included.
const indexFrameTimeout = time.Minute

// sendUpdate sends u on an index stream, in parts (the first one as a
// Register when register is set), and reads the answer. A refusal sent
// before the last part was written is still read and returned as a
// *refusedError.
func sendUpdate(stream *quic.Stream, owner ultrapeer.Owner, u ultrapeer.Update, register bool) (*ultrapeer.Ack, error) {
	read := func() (*ultrapeer.Ack, error) {
		stream.SetReadDeadline(time.Now().Add(indexFrameTimeout))
		reply, err := ultrapeer.ReadFrame(stream)
		if err != nil {
			return nil, err
		}
		switch r := reply.(type) {
		case *ultrapeer.Ack:
			return r, nil
		case *ultrapeer.Refuse:
			return nil, &refusedError{reason: r.Reason}
		}
		return nil, fmt.Errorf("unexpected %T from ultrapeer", reply)
	}
	for i, p := range ultrapeer.SplitUpdate(u, ultrapeer.PartBytes) {
		var m ultrapeer.Message = &p
		if register && i == 0 {
			m = &ultrapeer.Register{Owner: owner, Update: p}
		}
		stream.SetWriteDeadline(time.Now().Add(indexFrameTimeout))
		if err := ultrapeer.WriteFrame(stream, m); err != nil {
			if _, rerr := read(); rerr != nil && errors.As(rerr, new(*refusedError)) {
				return nil, rerr
			}
			return nil, err
		}
	}
	return read()
}

// noALPN reports whether err is a handshake that failed because the peer
// offers none of our ALPNs: it runs another version of the index plane.
func noALPN(err error) bool {
	var te *quic.TransportError
	return errors.As(err, &te) && te.ErrorCode == quic.TransportErrorCode(0x100+120) // TLS alert no_application_protocol
}
