package overlay

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// bareNode starts only the socket, QUIC listener and memberlist transport, so
// the test owns the transport's packet and stream channels.
func bareNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.started.Store(true)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if err := n.startTransport(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func TestMLTransportPacketsAndStreams(t *testing.T) {
	a := bareNode(t, testConfig(t, "a"))
	b := bareNode(t, testConfig(t, "b"))

	// Packets: a datagram on plane 0x01 arrives on b's PacketCh, from a's
	// stand-in, and a's address becomes a path hint at b.
	if _, err := a.mlt.WriteTo([]byte("probe"), b.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-b.mlt.PacketCh():
		from := p.From.(*net.UDPAddr).AddrPort()
		if id, ok := StandInID(from); string(p.Buf) != "probe" || !ok || id != a.id {
			t.Fatalf("packet %q from %v", p.Buf, p.From)
		}
		if got := b.paths.candidates(a.id, nil); len(got) != 1 || got[0] != a.LocalAddr() {
			t.Fatalf("b's candidates for a: %v, want [%v]", got, a.LocalAddr())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no packet")
	}

	// Streams: request/response, addresses, EOF both ways.
	for round := range 2 { // the second round reuses the cached connection
		c, err := a.mlt.DialTimeout(b.LocalAddr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		srv := acceptML(t, b)
		if srv.RemoteAddr().String() != a.LocalAddr().String() || c.RemoteAddr().String() != b.LocalAddr().String() {
			t.Fatalf("addresses: server sees %v, client sees %v", srv.RemoteAddr(), c.RemoteAddr())
		}
		buf := make([]byte, 4)
		srv.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(srv, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("server read %q: %v", buf, err)
		}
		srv.Write([]byte("pong"))
		srv.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		reply, err := io.ReadAll(c)
		if err != nil || string(reply) != "pong" {
			t.Fatalf("round %d: client read %q: %v", round, reply, err)
		}
		c.Close()
	}
	if got := len(a.mlt.conns); got != 1 {
		t.Fatalf("%d cached connections, want 1", got)
	}

	// The client closing is seen as EOF by the server.
	c, err := a.mlt.DialTimeout(b.LocalAddr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("bye"))
	c.Close()
	srv := acceptML(t, b)
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := io.ReadAll(srv); err != nil || string(got) != "bye" {
		t.Fatalf("server ReadAll %q: %v", got, err)
	}
	srv.Close()

	// Deadlines map to the stream.
	c, err = a.mlt.DialTimeout(b.LocalAddr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var ne net.Error
	if _, err := c.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past deadline: %v", err)
	}
}

func TestMLTransportKeyMismatch(t *testing.T) {
	ca, cb := testConfig(t, "a"), testConfig(t, "b")
	ca.DrillKey, cb.DrillKey = "one", "two"
	a, b := bareNode(t, ca), bareNode(t, cb)
	c, err := a.mlt.DialTimeout(b.LocalAddr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, ErrDrillKey) {
		t.Fatalf("read: %v, want ErrDrillKey", err)
	}
}

// TestMemberlistOverSharedSocket runs two full memberlists: the join is a
// push/pull over a QUIC stream, probes and gossip are plane-0x01 datagrams.
func TestMemberlistOverSharedSocket(t *testing.T) {
	a := startNode(t, testConfig(t, "a"))
	b := startNode(t, testConfig(t, "b"))
	joinTo(t, b, a)
	eventually(t, 10*time.Second, "probes flow both ways", func() bool {
		sa, sb := a.Stats().Planes[PlaneMemberlist], b.Stats().Planes[PlaneMemberlist]
		return sa.In > 3 && sa.Out > 3 && sb.In > 3 && sb.Out > 3
	})
	// A second push/pull, over a stream again, from the other side.
	if _, err := a.Join([]string{b.LocalAddr().String()}, ViaSeed); err != nil {
		t.Fatal(err)
	}
	if a.NumMembers() != 2 || b.NumMembers() != 2 {
		t.Fatalf("members: a %d, b %d", a.NumMembers(), b.NumMembers())
	}
}

func acceptML(t *testing.T, n *Node) net.Conn {
	t.Helper()
	select {
	case c := <-n.mlt.StreamCh():
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no stream")
	}
	return nil
}
