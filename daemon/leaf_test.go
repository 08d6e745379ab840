package daemon

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/servent-p2p/servent/ultrapeer"
)

// fakeUltrapeer answers a leaf's index streams as an ultrapeer's
// serveIndexConn does: an Ack for every update, or a Refuse. It records
// the frames it receives.
type fakeUltrapeer struct {
	mu      sync.Mutex
	refuse  ultrapeer.RefuseReason // refuse the first frame of every stream
	gap     bool                   // refuse the next delta with a version gap
	got     []ultrapeer.Message
	streams []*pipeStream
}

func (u *fakeUltrapeer) serve(_ string, s *pipeStream) {
	u.mu.Lock()
	u.streams = append(u.streams, s)
	u.mu.Unlock()
	for {
		m, err := ultrapeer.ReadFrame(s)
		if err != nil {
			return
		}
		u.mu.Lock()
		u.got = append(u.got, m)
		var reply ultrapeer.Message = &ultrapeer.Ack{}
		_, delta := m.(*ultrapeer.Update)
		switch {
		case u.refuse != 0:
			reply = &ultrapeer.Refuse{Reason: u.refuse}
		case u.gap && delta:
			reply, u.gap = &ultrapeer.Refuse{Reason: ultrapeer.RefuseVersionGap}, false
		}
		u.mu.Unlock()
		if ultrapeer.WriteFrame(s, reply) != nil {
			return
		}
		if r, ok := reply.(*ultrapeer.Refuse); ok && r.Reason != ultrapeer.RefuseVersionGap {
			return
		}
	}
}

// frames returns the frames received so far.
func (u *fakeUltrapeer) frames() []ultrapeer.Message {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.got)
}

// drop closes every connection of the ultrapeer, as a restart does.
func (u *fakeUltrapeer) drop() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, s := range u.streams {
		s.Close()
	}
}

// fakeIndex is a leaf's own index.
type fakeIndex struct {
	mu   sync.Mutex
	list []ultrapeer.Entry
}

func (f *fakeIndex) selfOwner() ultrapeer.Owner { return ultrapeer.Owner{ID: "leaf"} }

func (f *fakeIndex) entries() []ultrapeer.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.list)
}

func (f *fakeIndex) add(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append(f.list, ultrapeer.Entry{Path: path, Size: 1, Keywords: []string{path}})
}

// leafRig is a leaf attacher among five fake ultrapeers, planned by the
// real planner with two ultrapeers per leaf.
type leafRig struct {
	a       *leafAttacher
	dial    *fakeDialer
	ups     map[string]*fakeUltrapeer
	names   []string
	index   *fakeIndex
	changes atomic.Int32
	kicks   atomic.Int32
	cancel  context.CancelFunc
}

func newLeafRig(t *testing.T) *leafRig {
	r := &leafRig{dial: newFakeDialer(), ups: make(map[string]*fakeUltrapeer), index: &fakeIndex{}}
	r.index.add("report.pdf")
	for _, n := range []string{"u1", "u2", "u3", "u4", "u5"} {
		u := &fakeUltrapeer{}
		r.ups[n], r.names = u, append(r.names, n)
		r.dial.handle(n, u.serve)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.a = newLeafAttacher(ctx, quiet(), r.dial, r.index, func() { r.changes.Add(1) }, func() { r.kicks.Add(1) })
	t.Cleanup(r.stop)
	return r
}

// stop ends every session and every fake ultrapeer.
func (r *leafRig) stop() {
	r.cancel()
	r.a.wait()
	r.dial.wg.Wait()
}

// plan is the leaf's ultrapeers in the plan of its view now.
func (r *leafRig) plan() []string {
	cfg := ultrapeer.DefaultPlanConfig()
	cfg.Election.UltrapeersPerLeaf = 2
	v := ultrapeer.View{Members: []ultrapeer.Candidate{{ID: "leaf", Forced: ultrapeer.ForcedRole(0)}}}
	for _, n := range r.names {
		v.Members = append(v.Members, ultrapeer.Candidate{ID: n, Capacity: ultrapeer.ForcedUltrapeerCapacity, Forced: ultrapeer.ForcedRole(ultrapeer.ForcedUltrapeerCapacity), Uptime: time.Hour})
	}
	refused := r.a.refusedAt(time.Now())
	v.Refused = func(leaf, up string) bool { return refused[up] }
	return ultrapeer.NewPlan(v, cfg).Attach["leaf"]
}

// order is the leaf's whole rendezvous order over the ultrapeers.
func (r *leafRig) order() []string { return ultrapeer.Attach("leaf", r.names, len(r.names)) }

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func registers(ms []ultrapeer.Message) int {
	n := 0
	for _, m := range ms {
		if _, ok := m.(*ultrapeer.Register); ok {
			n++
		}
	}
	return n
}

// TestLeafAttacherAttaches: the leaf registers its whole index with the
// two ultrapeers its plan gives it (the first two of its rendezvous
// order), and with no other.
func TestLeafAttacherAttaches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLeafRig(t)
		want := r.plan()
		if !slices.Equal(want, r.order()[:2]) {
			t.Fatalf("plan %v, rendezvous order %v", want, r.order())
		}
		r.a.sync(want)
		synctest.Wait()
		if got := r.a.attached(); !slices.Equal(got, sorted(want)) {
			t.Fatalf("attached to %v, want %v", got, sorted(want))
		}
		for n, u := range r.ups {
			got := u.frames()
			if !slices.Contains(want, n) {
				if len(got) != 0 || r.dial.dialed(n) != 0 {
					t.Errorf("%s, not planned: dialed %d times, got %v", n, r.dial.dialed(n), got)
				}
				continue
			}
			reg, ok := got[0].(*ultrapeer.Register)
			if len(got) != 1 || !ok || reg.Owner.ID != "leaf" || !reg.Update.Full || len(reg.Update.Add) != 1 {
				t.Errorf("%s got %+v, want one full Register of 1 file", n, got)
			}
		}
		if r.changes.Load() != 2 {
			t.Errorf("%d attachment changes reported, want 2", r.changes.Load())
		}
	})
}

// TestLeafAttacherRefused: an ultrapeer that refuses the leaf is
// remembered and a new plan is asked for at once; that plan gives the next
// ultrapeer in rendezvous order, attached without any wait. A full
// ultrapeer is avoided for refusalMemoryFull, then planned again.
func TestLeafAttacherRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLeafRig(t)
		order := r.order()
		r.ups[order[0]].refuse = ultrapeer.RefuseFull
		start := time.Now()
		r.a.sync(r.plan())
		synctest.Wait()
		if r.kicks.Load() != 1 {
			t.Fatalf("%d replans asked for after a refusal, want 1", r.kicks.Load())
		}
		next := r.plan()
		if !slices.Equal(next, order[1:3]) {
			t.Fatalf("plan after %s refused: %v, want the next in rendezvous order %v", order[0], next, order[1:3])
		}
		r.a.sync(next)
		synctest.Wait()
		if got := r.a.attached(); !slices.Equal(got, sorted(next)) || time.Since(start) != 0 {
			t.Fatalf("attached to %v after %v, want %v at once", got, time.Since(start), sorted(next))
		}
		if r.dial.dialed(order[0]) != 1 {
			t.Errorf("the refusing ultrapeer was dialed %d times, want 1", r.dial.dialed(order[0]))
		}
		time.Sleep(refusalMemoryFull)
		if got := r.plan(); !slices.Equal(got, order[:2]) {
			t.Errorf("plan %v after %v, want %v again", got, refusalMemoryFull, order[:2])
		}
	})
}

// TestLeafAttacherReconnects: a session whose ultrapeer drops the
// connection detaches at once and registers again after leafBackoffMin.
func TestLeafAttacherReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLeafRig(t)
		want := r.plan()
		r.a.sync(want)
		synctest.Wait()
		lost := r.ups[want[0]]
		lost.drop()
		synctest.Wait()
		if got := r.a.attached(); !slices.Equal(got, []string{want[1]}) {
			t.Fatalf("attached to %v after %s dropped the leaf, want %v", got, want[0], want[1:])
		}
		time.Sleep(leafBackoffMin - time.Millisecond)
		if n := r.dial.dialed(want[0]); n != 1 {
			t.Fatalf("redialed before the backoff: %d dials", n)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got := r.a.attached(); !slices.Equal(got, sorted(want)) || registers(lost.frames()) != 2 {
			t.Fatalf("attached to %v, %d registrations with %s; want %v, 2", got, registers(lost.frames()), want[0], sorted(want))
		}
		if r.kicks.Load() != 0 {
			t.Error("a lost connection asked for a replan, as a refusal does")
		}
	})
}

// TestLeafAttacherUltrapeerLeaves: when one of its ultrapeers leaves the
// network, the leaf's next plan gives it the next ultrapeer in rendezvous
// order; it attaches there and keeps the other session as it was.
func TestLeafAttacherUltrapeerLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLeafRig(t)
		order := r.order()
		r.a.sync(r.plan())
		synctest.Wait()
		r.names = slices.DeleteFunc(r.names, func(n string) bool { return n == order[0] })
		r.ups[order[0]].drop()
		next := r.plan()
		if !slices.Equal(next, order[1:3]) {
			t.Fatalf("plan without %s: %v, want %v", order[0], next, order[1:3])
		}
		r.a.sync(next)
		synctest.Wait()
		if got := r.a.attached(); !slices.Equal(got, sorted(next)) {
			t.Fatalf("attached to %v, want %v", got, sorted(next))
		}
		if n := registers(r.ups[order[1]].frames()); n != 1 || r.dial.dialed(order[1]) != 1 {
			t.Errorf("the remaining ultrapeer got %d registrations over %d dials, want its one session kept", n, r.dial.dialed(order[1]))
		}
		time.Sleep(leafBackoffMax)
		if n := r.dial.dialed(order[0]); n != 1 {
			t.Errorf("the departed ultrapeer was dialed %d times, want no redial", n)
		}
	})
}

// TestLeafAttacherDetaches: a node that is no longer a leaf (sync(nil))
// closes every index session.
func TestLeafAttacherDetaches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLeafRig(t)
		r.a.sync(r.plan())
		synctest.Wait()
		r.a.sync(nil)
		r.a.wait()
		r.dial.wg.Wait() // every fake ultrapeer saw its stream close
		if got := r.a.attached(); len(got) != 0 {
			t.Fatalf("still attached to %v", got)
		}
		if r.changes.Load() != 4 {
			t.Errorf("%d attachment changes reported, want 2 attached + 2 detached", r.changes.Load())
		}
	})
}

// TestLeafAttacherDeltas: a catalog change goes to every ultrapeer as a
// delta; one that lost track of the versions gets the whole index again
// on the same stream.
func TestLeafAttacherDeltas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLeafRig(t)
		want := r.plan()
		r.ups[want[1]].gap = true
		r.a.sync(want)
		synctest.Wait()
		r.index.add("map.png")
		r.a.catalogChanged()
		synctest.Wait()
		got := r.ups[want[0]].frames()
		u, ok := got[len(got)-1].(*ultrapeer.Update)
		if len(got) != 2 || !ok || u.Full || u.FromVersion != 1 || u.ToVersion != 2 || len(u.Add) != 1 || u.Add[0].Path != "map.png" {
			t.Fatalf("%s got %+v, want a Register then a delta 1->2 adding map.png", want[0], got)
		}
		got = r.ups[want[1]].frames()
		reg, ok := got[len(got)-1].(*ultrapeer.Register)
		if len(got) != 3 || !ok || !reg.Update.Full || reg.Update.ToVersion != 2 || len(reg.Update.Add) != 2 {
			t.Fatalf("%s got %+v, want Register, delta, then a full Register at version 2", want[1], got)
		}
		if att := r.a.attached(); !slices.Equal(att, sorted(want)) || r.dial.dialed(want[1]) != 1 {
			t.Errorf("attached to %v, %d dials to %s: a version gap must not cost the session", att, r.dial.dialed(want[1]), want[1])
		}
	})
}

// TestLeafAttacherOtherVersion: an ultrapeer that does not speak the index
// protocol is avoided as long as a full one.
func TestLeafAttacherOtherVersion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLeafRig(t)
		want := r.plan()
		r.dial.handle(want[0], nil)
		r.a.sync(want)
		synctest.Wait()
		if got := r.a.refusedAt(time.Now().Add(refusalMemoryFull - time.Second)); !got[want[0]] || r.kicks.Load() != 1 {
			t.Fatalf("refusals %v, %d replans; want %s avoided as a full one", got, r.kicks.Load(), want[0])
		}
	})
}

// TestRefusalMemory: a refusal is an input of the leaf's plan for 30 s
// when the ultrapeer was full, 2 s otherwise, and then forgotten.
func TestRefusalMemory(t *testing.T) {
	l := newLeafAttacher(context.Background(), quiet(), nil, nil, nil, nil)
	l.refuse(&leafSession{up: "up1"}, ultrapeer.RefuseFull)
	l.refuse(&leafSession{up: "up2"}, ultrapeer.RefuseNotUltrapeer)
	now := time.Now()
	if got := l.refusedAt(now); !got["up1"] || !got["up2"] {
		t.Fatalf("just refused: %v", got)
	}
	if got := l.refusedAt(now.Add(refusalMemoryOther + time.Second)); !got["up1"] || got["up2"] {
		t.Fatalf("after %v: %v, want only the full one", refusalMemoryOther, got)
	}
	if got := l.refusedAt(now.Add(refusalMemoryFull + time.Second)); len(got) != 0 || len(l.refused) != 0 {
		t.Fatalf("after %v: %v, memory %v", refusalMemoryFull, got, l.refused)
	}
}

// TestLeafAttacherReturnsAfterRefusal: the plan that follows a refusal
// may still give the refusing ultrapeer (it was computed before the
// refusal, or the hierarchy loop was busy until the refusal was
// forgotten). The leaf registers with it again once it no longer
// refuses: a refused session does not stay behind as a dead entry that
// keeps the leaf short until its plan changes.
func TestLeafAttacherReturnsAfterRefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLeafRig(t)
		want := r.plan()
		refusing := r.ups[want[0]]
		refusing.refuse = ultrapeer.RefuseNotUltrapeer
		r.a.sync(want)
		synctest.Wait()
		r.a.sync(want) // a plan computed before the refusal
		synctest.Wait()
		if n := r.dial.dialed(want[0]); n != 1 {
			t.Errorf("%s dialed %d times while its refusal counts, want 1", want[0], n)
		}
		refusing.mu.Lock()
		refusing.refuse = 0 // it is an ultrapeer now
		refusing.mu.Unlock()
		time.Sleep(refusalMemoryOther)
		if got := r.plan(); !slices.Equal(got, want) {
			t.Fatalf("plan %v once the refusal is forgotten, want %v", got, want)
		}
		r.a.sync(want)
		synctest.Wait()
		if got := r.a.attached(); !slices.Equal(got, sorted(want)) {
			t.Fatalf("attached to %v, want %v: the refused session was never restarted", got, sorted(want))
		}
	})
}

// TestLeafAttacherKeepsSubstitute: while an ultrapeer keeps refusing (a
// role change not yet seen by all), the plan returns to it each time its
// refusal is forgotten. The leaf keeps the substitute it attached to
// meanwhile until the planned ultrapeer takes its index, so it is never
// attached to fewer ultrapeers than its plan gives, and the substitute is
// not registered again after every retry. Once the planned ultrapeer
// accepts, the substitute is let go.
func TestLeafAttacherKeepsSubstitute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLeafRig(t)
		order := r.order()
		planned, substitute := order[:2], order[1:3]
		refusing := r.ups[order[0]]
		refusing.refuse = ultrapeer.RefuseNotUltrapeer
		r.a.sync(r.plan())
		synctest.Wait()
		if got := r.plan(); !slices.Equal(got, substitute) {
			t.Fatalf("plan after a refusal %v, want %v", got, substitute)
		}
		r.a.sync(substitute)
		synctest.Wait()
		for range 3 { // the refusal is forgotten, and renewed
			time.Sleep(refusalMemoryOther)
			if got := r.plan(); !slices.Equal(got, planned) {
				t.Fatalf("plan %v once the refusal is forgotten, want %v", got, planned)
			}
			r.a.sync(planned)
			synctest.Wait()
			if got := r.a.attached(); !slices.Equal(got, sorted(substitute)) {
				t.Fatalf("attached to %v while %s refuses again, want %v kept", got, order[0], sorted(substitute))
			}
			r.a.sync(r.plan())
			synctest.Wait()
		}
		if n := r.changes.Load(); n != 2 || r.dial.dialed(order[0]) != 4 || r.dial.dialed(order[2]) != 1 {
			t.Errorf("%d attachment changes, %d dials to the refusing ultrapeer, %d to the substitute; want 2, 4, 1",
				n, r.dial.dialed(order[0]), r.dial.dialed(order[2]))
		}
		refusing.mu.Lock()
		refusing.refuse = 0
		refusing.mu.Unlock()
		time.Sleep(refusalMemoryOther)
		r.a.sync(r.plan())
		synctest.Wait()
		if got := r.a.attached(); !slices.Equal(got, sorted(planned)) {
			t.Fatalf("attached to %v once %s accepts, want %v", got, order[0], sorted(planned))
		}
	})
}
