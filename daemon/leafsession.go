package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/servent-p2p/servent/ultrapeer"
)

// Reconnect pacing of an index session that ended without a refusal (the
// connection broke, the ultrapeer restarted): the wait doubles from
// leafBackoffMin up to leafBackoffMax.
const (
	leafBackoffMin = 250 * time.Millisecond
	leafBackoffMax = 5 * time.Second
)

// indexFrameTimeout bounds each frame of an index session, the wait an
// ultrapeer's rate limit imposes included.
const indexFrameTimeout = time.Minute

// leafSession registers the leaf's index with one ultrapeer and keeps it
// current with deltas, reconnecting until stopped or refused.
type leafSession struct {
	a        *leafAttacher
	up       string
	ctx      context.Context
	cancel   context.CancelFunc
	changed  chan struct{}
	attached atomic.Bool
}

// run runs sessions until the session is stopped or the ultrapeer refuses
// the leaf: then it remembers the refusal and asks for a new plan.
func (s *leafSession) run() {
	a := s.a
	backoff := leafBackoffMin
	for s.ctx.Err() == nil {
		err := s.session()
		if s.attached.Load() {
			a.setAttached(s, false)
		}
		var refused *refusedError
		if errors.As(err, &refused) {
			a.log.Info("ultrapeer refused this leaf", "ultrapeer", s.up, "reason", refused.reason)
			a.refuse(s, refused.reason)
			a.replan()
			return
		}
		if s.ctx.Err() != nil {
			return
		}
		a.log.Debug("index session ended", "ultrapeer", s.up, "err", err)
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, leafBackoffMax)
	}
}

type refusedError struct{ reason ultrapeer.RefuseReason }

func (e *refusedError) Error() string { return "refused: " + e.reason.String() }

// session runs one connection: full registration, then deltas.
func (s *leafSession) session() error {
	a := s.a
	stream, err := a.dial.dialStream(s.ctx, s.up, ultrapeer.ALPNIndex)
	if errors.Is(err, errNoProtocol) {
		a.log.Warn("the ultrapeer does not speak this servent's index protocol (an older or newer servent): run the same version on every node",
			"ultrapeer", s.up, "protocol", ultrapeer.ALPNIndex)
		return &refusedError{reason: ultrapeer.RefuseFull} // kept away as long as a full one
	}
	if err != nil {
		return err
	}
	defer stream.Close()
	x := &indexExport{stream: stream, log: a.log, up: s.up, owner: a.index.selfOwner(), snapshot: a.index.entries(), version: 1}
	if err := x.full(); err != nil {
		return err
	}
	a.setAttached(s, true)
	a.log.Info("attached to ultrapeer", "ultrapeer", s.up, "files", len(x.snapshot))
	conn := stream.connContext()
	for {
		select {
		case <-s.ctx.Done():
			return s.ctx.Err()
		case <-conn.Done():
			return context.Cause(conn)
		case <-s.changed:
		}
		if err := x.delta(a.index.entries()); err != nil {
			return err
		}
	}
}

// indexExport is the leaf's side of one index stream: the entries the
// ultrapeer holds (snapshot) at version.
type indexExport struct {
	stream   deadlineStream
	log      *slog.Logger
	up       string
	owner    ultrapeer.Owner
	snapshot []ultrapeer.Entry
	version  uint64
}

// full registers the whole snapshot.
func (x *indexExport) full() error {
	return x.send(ultrapeer.Update{Full: true, ToVersion: x.version, Add: x.snapshot}, true)
}

// delta sends the difference between the snapshot and next, if any, and
// the whole index again when the ultrapeer lost track of the versions.
func (x *indexExport) delta(next []ultrapeer.Entry) error {
	u, ok := ultrapeer.Delta(x.version, x.snapshot, next)
	if !ok {
		return nil
	}
	x.snapshot, x.version = next, u.ToVersion
	err := x.send(u, false)
	var refused *refusedError
	if errors.As(err, &refused) && refused.reason == ultrapeer.RefuseVersionGap {
		err = x.full()
	}
	return err
}

func (x *indexExport) send(u ultrapeer.Update, register bool) error {
	ack, err := sendUpdate(x.stream, x.owner, u, register)
	if err == nil && ack.Dropped > 0 {
		x.log.Warn("the ultrapeer's budget per leaf holds only part of this node's shares: the rest cannot be found through it",
			"ultrapeer", x.up, "left_out", ack.Dropped, "files", len(x.snapshot))
	}
	return err
}

// deadlineStream is a stream whose reads and writes can be bounded in time.
type deadlineStream interface {
	io.ReadWriter
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// sendUpdate sends u on an index stream, in parts (the first one as a
// Register when register is set), and reads the answer. A refusal sent
// before the last part was written is still read and returned as a
// *refusedError.
func sendUpdate(stream deadlineStream, owner ultrapeer.Owner, u ultrapeer.Update, register bool) (*ultrapeer.Ack, error) {
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
