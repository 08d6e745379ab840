package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/servent-p2p/servent/ultrapeer"
)

// fakePolicy answers an index server's questions as the test sets them.
type fakePolicy struct {
	mu       sync.Mutex
	up       bool
	admitted map[string]bool
	its      []string // every leaf's ultrapeers
	leaves   []string // planned leaves, sorted
}

func (p *fakePolicy) isUltrapeer() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.up
}

func (p *fakePolicy) planned(leaf string) (bool, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.admitted[leaf], p.its
}

func (p *fakePolicy) plannedLeaves() []string { return p.leaves }
func (p *fakePolicy) tryUltrapeers() []string { return []string{"try1", "try2"} }

// indexRig is an index server with a fake policy; leaves connect over
// pipes and speak through the leaf's own sendUpdate.
type indexRig struct {
	s       *indexServer
	policy  *fakePolicy
	changes atomic.Int32
	wg      sync.WaitGroup

	mu     sync.Mutex
	closed map[string]string // leaf -> reason its connection was closed with
}

func newIndexRig(t *testing.T, maxLeaves int, admitted ...string) *indexRig {
	r := &indexRig{policy: &fakePolicy{up: true, admitted: make(map[string]bool)}, closed: make(map[string]string)}
	for _, l := range admitted {
		r.policy.admitted[l] = true
	}
	r.s = newIndexServer(quiet(), ultrapeer.NewRegistry(maxLeaves), r.policy, maxLeaves, func() { r.changes.Add(1) })
	t.Cleanup(r.wg.Wait)
	return r
}

// connect opens an index stream from leaf; refused receives serve's
// result when the session ends.
func (r *indexRig) connect(leaf string) (stream net.Conn, refused chan bool) {
	near, far := net.Pipe()
	refused = make(chan bool, 1)
	closeConn := func(reason string) {
		r.mu.Lock()
		r.closed[leaf] = reason
		r.mu.Unlock()
		far.Close()
	}
	r.wg.Go(func() {
		defer far.Close()
		refused <- r.s.serve(context.Background(), ultrapeer.Owner{ID: leaf}, far, closeConn)
	})
	return near, refused
}

// register sends leaf's full index of n files on a new stream.
func (r *indexRig) register(leaf string, n int) (net.Conn, chan bool, error) {
	stream, refused := r.connect(leaf)
	_, err := sendUpdate(stream, ultrapeer.Owner{ID: leaf}, ultrapeer.Update{Full: true, ToVersion: 1, Add: files(leaf, n)}, true)
	return stream, refused, err
}

func files(prefix string, n int) []ultrapeer.Entry {
	out := make([]ultrapeer.Entry, n)
	for i := range out {
		out[i] = ultrapeer.Entry{Path: fmt.Sprintf("%s/%d.txt", prefix, i), Size: 1, Keywords: []string{prefix}}
		out[i].Hash[0], out[i].Hash[1] = byte(i), byte(i>>8)
	}
	return out
}

func refusal(err error) ultrapeer.RefuseReason {
	var r *refusedError
	if errors.As(err, &r) {
		return r.reason
	}
	return 0
}

// TestIndexServerSession: an admitted leaf's registration and delta are
// held; when its stream ends its index is dropped, unless a newer session
// of the same leaf holds it.
func TestIndexServerSession(t *testing.T) {
	r := newIndexRig(t, 10, "a")
	stream, refused, err := r.register("a", 2)
	if err != nil || r.s.registry.OwnerEntries("a") != 2 || r.changes.Load() != 1 {
		t.Fatalf("register: %v, held %d, changes %d", err, r.s.registry.OwnerEntries("a"), r.changes.Load())
	}
	delta := ultrapeer.Update{FromVersion: 1, ToVersion: 2, Add: files("b", 1)}
	if ack, err := sendUpdate(stream, ultrapeer.Owner{ID: "a"}, delta, false); err != nil || ack.Version != 2 || r.s.registry.OwnerEntries("a") != 3 {
		t.Fatalf("delta: %+v %v, held %d", ack, err, r.s.registry.OwnerEntries("a"))
	}
	newer, newerDone, err := r.register("a", 1)
	if err != nil {
		t.Fatal(err)
	}
	stream.Close()
	if <-refused || r.s.registry.OwnerEntries("a") != 1 {
		t.Fatalf("the older session's end dropped the index of the newer one (held %d)", r.s.registry.OwnerEntries("a"))
	}
	newer.Close()
	<-newerDone
	if _, held := r.s.registry.OwnerVersion("a"); held || r.changes.Load() != 2 {
		t.Fatalf("after the stream ended: held %v, changes %d", held, r.changes.Load())
	}
}

// TestIndexServerRefuses: a node that is not an ultrapeer refuses with
// hints, an ultrapeer refuses a leaf its plan does not admit with the
// leaf's own ultrapeers, and a frame of another wire version is refused
// as a bad update; each refusal ends the session.
func TestIndexServerRefuses(t *testing.T) {
	r := newIndexRig(t, 10)
	r.policy.its = []string{"u7", "u8"}
	for _, c := range []struct {
		name   string
		up     bool
		frame  []byte
		reason ultrapeer.RefuseReason
		try    []string
	}{
		{"not an ultrapeer", false, nil, ultrapeer.RefuseNotUltrapeer, []string{"try1", "try2"}},
		{"planned elsewhere", true, nil, ultrapeer.RefuseNotPlanned, []string{"u7", "u8"}},
		{"wire version 1", true, append([]byte{38, 0x01, 0x01}, make([]byte, 36)...), ultrapeer.RefuseBadUpdate, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r.policy.up = c.up
			stream, refused := r.connect("x")
			defer stream.Close()
			frame, err := ultrapeer.AppendFrame(nil, &ultrapeer.Register{Owner: ultrapeer.Owner{ID: "x"}, Update: ultrapeer.Update{Full: true, ToVersion: 1}})
			if c.frame != nil {
				frame = c.frame
			}
			if err != nil {
				t.Fatal(err)
			}
			go stream.Write(frame)
			reply, err := ultrapeer.ReadFrame(stream)
			rf, ok := reply.(*ultrapeer.Refuse)
			if err != nil || !ok || rf.Reason != c.reason || !slices.Equal(rf.TryUltrapeers, c.try) {
				t.Fatalf("reply %+v %v, want Refuse(%s, try %v)", reply, err, c.reason, c.try)
			}
			if !<-refused {
				t.Error("serve did not report the refusal")
			}
		})
	}
}

// TestIndexServerPaces: an update that leaves a leaf's bucket in debt
// delays the next until the debt is paid (QUIC flow control then holds
// the leaf back); it is slowed, not refused.
func TestIndexServerPaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newIndexRig(t, 10, "a")
		r.s.limit.set(1000, indexUpdateCost)
		stream, _, err := r.register("a", 500) // 1000 + 500: 500 in debt
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		start := time.Now()
		delta := ultrapeer.Update{FromVersion: 1, ToVersion: 2, Remove: []string{"a/0.txt"}}
		if _, err := sendUpdate(stream, ultrapeer.Owner{ID: "a"}, delta, false); err != nil {
			t.Fatal(err)
		}
		// 500 ms to pay the registration's debt; the delta's own cost
		// (1000) then puts the bucket 1000 in debt: 1 s before its part
		// is charged, and 1 ms more (its one removal) before the rebuild.
		if waited, want := time.Since(start), 1501*time.Millisecond; waited != want {
			t.Fatalf("the next update waited %v, want %v", waited, want)
		}
	})
}

// TestIndexServerMakeRoom: a full ultrapeer lets in a leaf its plan gives
// it by dropping one the plan does not (and closing that one's
// connection); it keeps a leaf out that the plan gives elsewhere, and
// drops nobody while it has room.
func TestIndexServerMakeRoom(t *testing.T) {
	r := newIndexRig(t, 2, "a", "b", "c", "x")
	r.policy.leaves = []string{"a", "c"}
	var streams []net.Conn
	defer func() {
		for _, s := range streams {
			s.Close()
		}
	}()
	for _, leaf := range []string{"a", "b"} { // room left: nothing dropped
		s, _, err := r.register(leaf, 1)
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	s, _, err := r.register("x", 1) // full, and x is planned elsewhere
	streams = append(streams, s)
	if refusal(err) != ultrapeer.RefuseFull {
		t.Fatalf("an unplanned leaf in a full ultrapeer: %v, want refused as full", err)
	}
	s, _, err = r.register("c", 1) // full, c is planned here: b, not planned, goes
	streams = append(streams, s)
	if err != nil {
		t.Fatalf("the planned leaf: %v", err)
	}
	r.mu.Lock()
	reason := r.closed["b"]
	r.mu.Unlock()
	if got := r.s.registry.Leaves(); !slices.Equal(got, []string{"a", "c"}) || reason == "" {
		t.Fatalf("leaves %v, b's connection closed with %q; want a and c, b closed", got, reason)
	}
}

// TestIndexServerStepDown: an ultrapeer that steps down, or sees a leaf
// leave the network, drops the index and closes the connection.
func TestIndexServerStepDown(t *testing.T) {
	r := newIndexRig(t, 10, "a", "b")
	sa, _, errA := r.register("a", 1)
	sb, _, errB := r.register("b", 1)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	defer sa.Close()
	defer sb.Close()
	r.s.memberLeft("a")
	if got := r.s.registry.Leaves(); !slices.Equal(got, []string{"b"}) || r.closed["a"] == "" {
		t.Fatalf("after a left: leaves %v, closed %v", got, r.closed)
	}
	r.s.dropAll()
	if got := r.s.registry.Leaves(); len(got) != 0 || r.closed["b"] != "no longer an ultrapeer" {
		t.Fatalf("after stepping down: leaves %v, closed %v", got, r.closed)
	}
}
