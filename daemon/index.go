package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/servent-p2p/servent/ultrapeer"
)

// leafPolicy is what the index server asks the hierarchy about leaves; the
// daemon answers from its topology and plan (admit.go). Safe for
// concurrent use.
type leafPolicy interface {
	// isUltrapeer reports whether this node is an ultrapeer now.
	isUltrapeer() bool
	// planned reports whether this ultrapeer admits leaf in the plan of its
	// current view (admits), and the leaf's ultrapeers in that plan.
	planned(leaf string) (admitted bool, its []string)
	// plannedLeaves returns the leaves the plan gives this ultrapeer, sorted.
	plannedLeaves() []string
	// tryUltrapeers is the hint sent with a refusal.
	tryUltrapeers() []string
}

// indexServer is the ultrapeer side of the index plane: a leaf's stream
// carries Register/Update frames, an update possibly in parts. Each update
// must come from a leaf the policy admits; its parts are held within twice
// the leaf's budget (ultrapeer.Assembler) and paced by the leaf's rate
// (indexLimiter); the registry keeps what fits the budget and the Ack says
// how much it left out. A full ultrapeer makes room for a leaf its plan
// gives it (displaced). startNetwork builds it; serveIndexConn hands it
// each leaf's stream. Safe for concurrent use.
type indexServer struct {
	log       *slog.Logger
	registry  *ultrapeer.Registry
	policy    leafPolicy
	limit     *indexLimiter
	maxLeaves int    // max_leaves; < 1: no limit
	changed   func() // the set of registered leaves changed
	conns     leafConns
}

func newIndexServer(log *slog.Logger, registry *ultrapeer.Registry, policy leafPolicy, maxLeaves int, changed func()) *indexServer {
	return &indexServer{
		log: log, registry: registry, policy: policy, maxLeaves: maxLeaves, changed: changed,
		limit: newIndexLimiter(indexRate, indexBurst),
	}
}

// serve runs one leaf's index stream until it ends, ctx ends or the leaf
// is refused, and then drops the leaf's index unless a newer session holds
// it. closeConn closes the leaf's connection (when the leaf leaves, is
// displaced, or this node steps down). serve reports whether it ended with
// a refusal written to the stream: the caller then stops reading and gives
// the leaf time to read it (closeAfterReply). It blocks on the stream and
// on the leaf's pace.
func (s *indexServer) serve(ctx context.Context, owner ultrapeer.Owner, stream io.ReadWriter, closeConn func(reason string)) (refused bool) {
	gen := s.conns.begin(owner.ID, closeConn)
	defer func() {
		if s.conns.end(owner.ID, gen) && s.registry.Drop(owner.ID) {
			s.log.Info("leaf detached", "leaf", owner.ID)
			s.changed()
		}
	}()
	parts := ultrapeer.NewAssembler(2 * s.registry.Budget().Bytes)
	for {
		u, dropped, reply, err := s.readUpdate(ctx, stream, owner.ID, parts)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				s.log.Debug("index stream", "leaf", owner.ID, "err", err)
			}
			return false
		}
		if reply == nil {
			reply = s.apply(owner, u, dropped)
		}
		if err := ultrapeer.WriteFrame(stream, reply); err != nil {
			return false
		}
		if _, refused := reply.(*ultrapeer.Refuse); refused {
			return true
		}
	}
}

// readUpdate reads the frames of a leaf's next update, paced by the
// leaf's rate, and returns it whole with the entries its parts lost to
// the budget, or the refusal to answer with (not admitted, a part of
// another update, another wire version). It blocks on the stream and on
// the pace.
func (s *indexServer) readUpdate(ctx context.Context, stream io.Reader, leaf string, parts *ultrapeer.Assembler) (u ultrapeer.Update, dropped int, refuse ultrapeer.Message, err error) {
	for starting := true; ; starting = false {
		part, refuse, err := s.readPart(stream, leaf)
		if refuse != nil || err != nil {
			return u, 0, refuse, err
		}
		if starting {
			if err := s.limit.wait(ctx, leaf, indexUpdateCost); err != nil {
				return u, 0, nil, err
			}
			if r := s.admit(leaf); r != nil {
				return u, 0, r, nil
			}
		}
		if err := s.limit.wait(ctx, leaf, len(part.Add)+len(part.Remove)); err != nil {
			return u, 0, nil, err
		}
		u, dropped, done, err := parts.Add(part)
		if err != nil {
			return u, 0, &ultrapeer.Refuse{Reason: ultrapeer.RefuseBadUpdate}, nil
		}
		if !done {
			continue
		}
		if !u.Full {
			// A delta rebuilds the leaf's whole index: pay for the copy.
			if err := s.limit.wait(ctx, leaf, s.registry.OwnerEntries(leaf)); err != nil {
				return u, 0, nil, err
			}
		}
		return u, dropped, nil, nil
	}
}

// readPart reads one Register or Update frame, or returns the refusal to
// answer another wire version with.
func (s *indexServer) readPart(stream io.Reader, leaf string) (ultrapeer.Update, ultrapeer.Message, error) {
	msg, err := ultrapeer.ReadFrame(stream)
	if errors.Is(err, ultrapeer.ErrUnsupportedVersion) {
		s.log.Warn("a leaf speaks another index wire version: run the same servent version on every node", "leaf", leaf, "err", err, "ours", ultrapeer.WireVersion)
		return ultrapeer.Update{}, &ultrapeer.Refuse{Reason: ultrapeer.RefuseBadUpdate}, nil
	}
	if err != nil {
		return ultrapeer.Update{}, nil, err
	}
	switch f := msg.(type) {
	case *ultrapeer.Register:
		return f.Update, nil, nil
	case *ultrapeer.Update:
		return *f, nil, nil
	}
	return ultrapeer.Update{}, nil, fmt.Errorf("unexpected %T from a leaf", msg)
}

// admit returns nil when this node takes leaf's index now, otherwise the
// refusal to answer with: this node is not an ultrapeer, or, in the plan
// computed from its current view, it is neither one of the leaf's
// ultrapeers nor one the leaf would turn to after refusals (admits). A
// leaf whose view is a little stale acts on the refusal as on any other:
// it plans again without this ultrapeer for a moment.
func (s *indexServer) admit(leaf string) ultrapeer.Message {
	if !s.policy.isUltrapeer() {
		return &ultrapeer.Refuse{Reason: ultrapeer.RefuseNotUltrapeer, TryUltrapeers: s.policy.tryUltrapeers()}
	}
	admitted, its := s.policy.planned(leaf)
	if admitted {
		return nil
	}
	s.log.Info("refused the index of a leaf planned elsewhere", "leaf", leaf, "its_ultrapeers", its)
	return &ultrapeer.Refuse{Reason: ultrapeer.RefuseNotPlanned, TryUltrapeers: its[:min(len(its), ultrapeer.MaxTryUltrapeers)]}
}

// apply applies a leaf's whole update (dropped: entries already left out
// while its parts arrived) and returns the Ack or Refuse.
func (s *indexServer) apply(owner ultrapeer.Owner, u ultrapeer.Update, dropped int) ultrapeer.Message {
	if !s.policy.isUltrapeer() {
		return &ultrapeer.Refuse{Reason: ultrapeer.RefuseNotUltrapeer, TryUltrapeers: s.policy.tryUltrapeers()}
	}
	s.makeRoom(owner.ID)
	before := len(s.registry.Leaves())
	reply := s.registry.Handle(owner, u, s.policy.tryUltrapeers())
	ack, isAck := reply.(*ultrapeer.Ack)
	if !isAck {
		return reply
	}
	ack.Dropped += uint64(dropped)
	if ack.Dropped > 0 {
		s.log.Warn("a leaf's index is over its budget: part of it is left out", "leaf", owner.ID, "left_out", ack.Dropped, "held", s.registry.OwnerEntries(owner.ID))
	}
	if n := len(s.registry.Leaves()); n != before {
		s.log.Info("leaf attached", "leaf", owner.ID, "files", s.registry.OwnerEntries(owner.ID), "leaves", n)
		s.changed()
	}
	return ack
}

// makeRoom drops the leaf displaced would give way to leaf, if any.
func (s *indexServer) makeRoom(leaf string) {
	victim, ok := displaced(s.registry.Leaves(), s.policy.plannedLeaves(), leaf, s.maxLeaves)
	if !ok {
		return
	}
	s.log.Info("leaf displaced by a planned one", "leaf", victim, "for", leaf)
	s.conns.close(victim)
	s.registry.Drop(victim)
}

// dropAll forgets every leaf's index and closes their connections (the
// node is no longer an ultrapeer), so they re-attach elsewhere now.
func (s *indexServer) dropAll() {
	s.conns.closeAll()
	for _, id := range s.registry.Leaves() {
		s.registry.Drop(id)
	}
}

// memberLeft forgets what a departed member registered, and closes its
// index connection so that, if it was only thought dead, it registers again.
func (s *indexServer) memberLeft(name string) {
	s.conns.close(name)
	if s.registry.Drop(name) {
		s.log.Info("leaf left the network", "leaf", name)
	}
}
