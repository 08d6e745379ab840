package overlay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// recorder collects datagrams delivered to a plane.
type recorder struct {
	mu   sync.Mutex
	got  []datagram
	seen atomic.Int64
}

func (r *recorder) handle(from netip.AddrPort, b []byte) {
	r.mu.Lock()
	r.got = append(r.got, datagram{from: from, b: b})
	r.mu.Unlock()
	r.seen.Add(1)
}

func handlePlane(t *testing.T, id byte, r *recorder) func(*Node) {
	return func(n *Node) {
		if err := n.HandleDatagrams(id, r.handle); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDatagramDemux(t *testing.T) {
	var ra, rb recorder
	a := startNode(t, testConfig(t, "a"), handlePlane(t, testPlane, &ra))
	b := startNode(t, testConfig(t, "b"), handlePlane(t, testPlane, &rb))
	joinTo(t, b, a)
	eventually(t, 5*time.Second, "a knows b", func() bool { return a.IsMember(b.LocalAddr()) && b.IsMember(a.LocalAddr()) })

	if err := a.SendDatagram(b.LocalAddr(), testPlane, []byte("query")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "b gets the query", func() bool { return rb.seen.Load() == 1 })
	rb.mu.Lock()
	if d := rb.got[0]; d.from.Addr() != a.StandIn().Addr() || string(d.b) != "query" {
		t.Fatalf("got %q from %v", d.b, d.from)
	}
	rb.mu.Unlock()

	if err := a.SendDatagram(b.LocalAddr(), testPlane, make([]byte, MaxDatagram)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	if err := a.SendDatagram(b.LocalAddr(), 0x40, []byte("x")); !errors.Is(err, ErrBadPlane) {
		t.Fatalf("plane 0x40: %v", err)
	}
	if err := a.SendDatagram(b.LocalAddr(), 0x03, []byte("nobody")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "unknown plane counted", func() bool { return b.Stats().DroppedUnknownPlane == 1 })

	// A datagram on a plain socket proves nothing of its sender: dropped
	// unread, whatever its source.
	stranger, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(testIP()+":0")))
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	if _, err := stranger.WriteToUDPAddrPort([]byte{testPlane, 'h', 'i'}, b.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "unauthenticated counted", func() bool { return b.Stats().DroppedUnauthenticated == 1 })

	st := a.Stats()
	if st.Planes[testPlane].Out != 1 || st.DroppedOversize != 1 {
		t.Fatalf("a stats %+v", st)
	}
	if b.Stats().Planes[testPlane].In != 1 || rb.seen.Load() != 1 {
		t.Fatalf("b stats %+v", b.Stats())
	}
}

// TestDatagramBurst measures what survives a burst of memberlist packets
// from one sender: quic-go queues only 32 non-QUIC packets, so the overlay
// takes them out of its batch reads before quic-go sees them.
func TestDatagramBurst(t *testing.T) {
	for _, burst := range []int{32, 200, 1000, 5000} {
		t.Run(fmt.Sprint(burst), func(t *testing.T) { measureBurst(t, burst) })
	}
}

func measureBurst(t *testing.T, burst int) {
	b := startNode(t, testConfig(t, "b"))
	src, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(testIP()+":0")))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	msg := append([]byte{PlaneMemberlist, 1, 2, 3, 4, 5, 6, 7, 8}, bytes.Repeat([]byte{'q'}, 100)...)
	start := time.Now()
	for range burst {
		if _, err := src.WriteToUDPAddrPort(msg, b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	sendTime := time.Since(start)
	eventually(t, 10*time.Second, "every datagram accounted for", func() bool {
		st := b.Stats()
		return st.Planes[PlaneMemberlist].In+st.DroppedQUICQueue == uint64(burst)
	})
	st := b.Stats()
	in := st.Planes[PlaneMemberlist].In
	t.Logf("burst of %d × %d B sent in %v: delivered %d (%.1f%%), memberlist queue drops %d, quic-go queue drops %d",
		burst, len(msg), sendTime, in, 100*float64(in)/float64(burst), st.Planes[PlaneMemberlist].Dropped, st.DroppedQUICQueue)
	if in < 32 {
		t.Fatalf("only %d delivered", in)
	}
}

func TestALPNRouting(t *testing.T) {
	var got atomic.Value
	echo := func(proto string) func(*quic.Conn) {
		return func(c *quic.Conn) {
			got.Store(proto)
			s, err := c.AcceptStream(context.Background())
			if err != nil {
				return
			}
			io.Copy(s, s)
			s.Close()
		}
	}
	b := startNode(t, testConfig(t, "b"), func(n *Node) {
		n.HandleALPN("test/1", echo("test/1"))
		n.HandleALPN("test/2", echo("test/2"))
	})
	a := startNode(t, testConfig(t, "a"))
	joinTo(t, a, b)
	eventually(t, 5*time.Second, "a knows b", func() bool { return a.IsMember(b.LocalAddr()) })

	for _, proto := range []string{"test/1", "test/2"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := a.Dial(ctx, b.LocalAddr(), proto)
		if err != nil {
			cancel()
			t.Fatalf("dial %s: %v", proto, err)
		}
		s, err := c.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.Write([]byte("ping " + proto))
		s.Close()
		reply, err := io.ReadAll(s)
		if err != nil || string(reply) != "ping "+proto || got.Load() != proto {
			t.Fatalf("%s: reply %q err %v handler %v", proto, reply, err, got.Load())
		}
		c.CloseWithError(0, "")
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.Dial(ctx, b.LocalAddr(), "unknown/1"); err == nil {
		t.Fatal("dial with an unregistered ALPN succeeded")
	}
}

func TestPinning(t *testing.T) {
	accept := func(n *Node) {
		n.HandleALPN("test/1", func(c *quic.Conn) { <-c.Context().Done() })
	}
	t.Run("dialer refuses a wrong fingerprint", func(t *testing.T) {
		b := startNode(t, testConfig(t, "b"), accept)
		a := startNode(t, testConfig(t, "a"))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		wrong := b.Fingerprint()
		wrong[0] ^= 1
		_, err := a.DialPinned(ctx, b.LocalAddr(), wrong, "test/1")
		if err == nil || !strings.Contains(err.Error(), ErrFingerprintMismatch.Error()) {
			t.Fatalf("wrong pin: %v", err)
		}
		c, err := a.DialPinned(ctx, b.LocalAddr(), b.Fingerprint(), "test/1")
		if err != nil {
			t.Fatalf("right pin: %v", err)
		}
		c.CloseWithError(0, "")
	})
	t.Run("keyed server refuses a non-member client", func(t *testing.T) {
		cfg := testConfig(t, "kb")
		cfg.DrillKey = "k"
		b := startNode(t, cfg, accept)
		cfg = testConfig(t, "ka")
		cfg.DrillKey = "k"
		a := startNode(t, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := a.Dial(ctx, b.LocalAddr(), "test/1"); !errors.Is(err, ErrNotMember) {
			t.Fatalf("keyed dial to non-member: %v", err)
		}
		// TLS 1.3: the client finishes before the server checks its
		// certificate, so the refusal arrives as the connection closing.
		if c, err := a.DialPinned(ctx, b.LocalAddr(), b.Fingerprint(), "test/1"); err == nil {
			select {
			case <-c.Context().Done():
			case <-ctx.Done():
				t.Fatal("server kept a connection from a client that is not a member")
			}
		}
		joinTo(t, a, b)
		eventually(t, 5*time.Second, "b knows a", func() bool { return b.IsMember(a.LocalAddr()) && a.IsMember(b.LocalAddr()) })
		c, err := a.Dial(ctx, b.LocalAddr(), "test/1")
		if err != nil {
			t.Fatalf("member dial: %v", err)
		}
		c.CloseWithError(0, "")
	})
}
