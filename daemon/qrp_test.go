package daemon

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
)

// fakeTables is an index whose keywords the test sets.
type fakeTables struct {
	mu      sync.Mutex
	version uint64
	words   []string
}

func (f *fakeTables) Version() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version
}

func (f *fakeTables) routeTable() *query.Table {
	f.mu.Lock()
	defer f.mu.Unlock()
	return tableOf(f.words...)
}

func (f *fakeTables) set(words ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	f.words = words
}

func tableOf(words ...string) *query.Table {
	t := query.NewTable(query.DefaultTableBits)
	for _, w := range words {
		t.AddKeyword(w)
	}
	return t
}

// fakeNeighbour reads the QRP streams it is sent, as serveQRPConn does.
type fakeNeighbour struct {
	mu      sync.Mutex
	tables  []*query.Table // every table received, in order
	streams []*pipeStream
	ended   int // streams that ended
}

func (n *fakeNeighbour) serve(_ string, s *pipeStream) {
	n.mu.Lock()
	n.streams = append(n.streams, s)
	n.mu.Unlock()
	r := query.NewRouteTableReader(s)
	for {
		t, err := r.Next()
		if err != nil {
			n.mu.Lock()
			n.ended++
			n.mu.Unlock()
			return
		}
		n.mu.Lock()
		n.tables = append(n.tables, t)
		n.mu.Unlock()
	}
}

// last returns the latest table received and the number of streams.
func (n *fakeNeighbour) last() (*query.Table, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.tables) == 0 {
		return nil, len(n.streams)
	}
	return n.tables[len(n.tables)-1], len(n.streams)
}

// qrpRig is an ultrapeer's QRP links to three fake neighbours.
type qrpRig struct {
	q      *qrpLinks
	dial   *fakeDialer
	nbs    map[string]*fakeNeighbour
	tables *fakeTables
	cancel context.CancelFunc
}

func newQRPRig(t *testing.T, on bool) *qrpRig {
	r := &qrpRig{dial: newFakeDialer(), nbs: make(map[string]*fakeNeighbour), tables: &fakeTables{}}
	r.tables.set("evacuation", "map")
	for _, n := range []string{"n1", "n2", "n3"} {
		r.nbs[n] = &fakeNeighbour{}
		r.dial.handle(n, r.nbs[n].serve)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.q = newQRPLinks(ctx, quiet(), r.dial, r.tables, nil, on)
	t.Cleanup(func() {
		cancel()
		r.q.wait()
		r.dial.wg.Wait()
	})
	return r
}

// TestQRPLinksSend: an ultrapeer sends its table to each mesh neighbour,
// then each change; a neighbour that left the mesh is no longer sent to.
func TestQRPLinksSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newQRPRig(t, true)
		r.q.sync(role.Ultrapeer, []string{"n1", "n2"})
		synctest.Wait()
		want := tableOf("evacuation", "map")
		for _, n := range []string{"n1", "n2"} {
			if got, _ := r.nbs[n].last(); got == nil || !got.Equal(want) {
				t.Fatalf("%s holds another table", n)
			}
		}
		if r.dial.dialed("n3") != 0 {
			t.Fatal("n3, not a mesh neighbour, was dialed")
		}
		r.tables.set("evacuation", "map", "shelter")
		r.q.sync(role.Ultrapeer, []string{"n1"})
		synctest.Wait()
		if got, streams := r.nbs["n1"].last(); !got.Equal(tableOf("evacuation", "map", "shelter")) || streams != 1 {
			t.Fatalf("n1 holds another table after the change (%d streams)", streams)
		}
		n2 := r.nbs["n2"]
		if got, _ := n2.last(); !got.Equal(want) || n2.ended != 1 {
			t.Fatalf("n2, out of the mesh: got the change %v, stream closed %v", !got.Equal(want), n2.ended == 1)
		}
	})
}

// TestQRPLinksRedial: a neighbour that closes the connection (it
// restarted) gets the whole table again on a new stream after qrpRedial.
func TestQRPLinksRedial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newQRPRig(t, true)
		r.q.sync(role.Ultrapeer, []string{"n1"})
		synctest.Wait()
		nb := r.nbs["n1"]
		nb.mu.Lock()
		nb.streams[0].Close()
		nb.tables = nil
		nb.mu.Unlock()
		synctest.Wait()
		time.Sleep(qrpRedial)
		synctest.Wait()
		if got, streams := nb.last(); streams != 2 || got == nil || !got.Equal(tableOf("evacuation", "map")) {
			t.Fatalf("after the neighbour closed: %d streams, table %v", streams, got)
		}
	})
}

// TestQRPLinksOff: a leaf, or an ultrapeer with last-hop QRP off, sends no
// table; a node stepping down stops its links.
func TestQRPLinksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		off := newQRPRig(t, false)
		off.q.sync(role.Ultrapeer, []string{"n1"})
		r := newQRPRig(t, true)
		r.q.sync(role.Leaf, []string{"n1"})
		synctest.Wait()
		if off.dial.dialed("n1")+r.dial.dialed("n1") != 0 {
			t.Fatal("a table was sent with QRP off or as a leaf")
		}
		r.q.sync(role.Ultrapeer, []string{"n1", "n2"})
		synctest.Wait()
		r.q.sync(role.Leaf, nil)
		r.dial.wg.Wait() // both streams closed
	})
}

// TestQRPLinksReceive: each table a neighbour's stream completes goes to
// the routing core, and the table is forgotten when the stream ends, even
// on a malformed message.
func TestQRPLinksReceive(t *testing.T) {
	var got []*query.Table
	q := newQRPLinks(context.Background(), quiet(), nil, nil, func(p query.PeerID, tb *query.Table) {
		if p != "n1" {
			t.Errorf("table of %q", p)
		}
		got = append(got, tb)
	}, true)
	var stream bytes.Buffer
	v1, v2 := tableOf("evacuation"), tableOf("evacuation", "shelter")
	query.WriteRouteTable(&stream, query.GUID{1}, nil, v1)
	query.WriteRouteTable(&stream, query.GUID{2}, v1, v2)
	for _, tail := range []string{"", strings.Repeat("\xff", 40)} {
		got = nil
		q.receive("n1", bytes.NewReader(append(slices.Clone(stream.Bytes()), tail...)))
		if len(got) != 3 || !got[0].Equal(v1) || !got[1].Equal(v2) || got[2] != nil {
			t.Fatalf("tail %q: the router was given %d tables, want v1, v2, then nil", tail, len(got))
		}
	}
}
