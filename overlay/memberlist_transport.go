package overlay

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/quic-go/quic-go"
)

// mlTransport is memberlist's transport on the node's shared socket: packets
// are datagrams on PlaneMemberlist, streams are QUIC streams on connections
// with ALPN ALPNMemberlist. Each stream starts with a 16-byte tag derived
// from the drill key (zeros without one); the acceptor answers with a status
// byte, so a key mismatch surfaces as ErrDrillKey instead of a silent EOF.
type mlTransport struct {
	n        *Node
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn

	mu    sync.Mutex
	conns map[netip.AddrPort]*quic.Conn // outgoing, reused per peer
}

var _ memberlist.NodeAwareTransport = (*mlTransport)(nil)

func newMLTransport(n *Node) *mlTransport {
	return &mlTransport{
		n:        n,
		packetCh: make(chan *memberlist.Packet, 1024),
		streamCh: make(chan net.Conn, 64),
		conns:    make(map[netip.AddrPort]*quic.Conn),
	}
}

// deliverPacket hands a memberlist packet over without blocking the reader.
func (t *mlTransport) deliverPacket(from netip.AddrPort, b []byte) {
	p := &memberlist.Packet{Buf: b, From: net.UDPAddrFromAddrPort(from), Timestamp: time.Now()}
	select {
	case t.packetCh <- p:
	default:
		t.n.stats.mlDropped.Add(1)
	}
}

func (t *mlTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	a, err := t.n.advertiseAddr()
	if err != nil {
		return nil, 0, err
	}
	return a.Addr().AsSlice(), int(a.Port()), nil
}

func (t *mlTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *mlTransport) WriteToAddress(b []byte, addr memberlist.Address) (time.Time, error) {
	ap, err := resolveAddrPort(addr.Addr)
	if err != nil {
		return time.Time{}, err
	}
	now := time.Now()
	return now, t.n.SendDatagram(ap, PlaneMemberlist, b)
}

func (t *mlTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

func (t *mlTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *mlTransport) DialAddressTimeout(addr memberlist.Address, timeout time.Duration) (net.Conn, error) {
	ap, err := resolveAddrPort(addr.Addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(t.n.ctx, timeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		c, err := t.conn(ctx, ap)
		if err != nil {
			return nil, err
		}
		s, err := c.OpenStreamSync(ctx)
		if err != nil {
			t.forget(ap, c)
			if attempt == 0 && ctx.Err() == nil {
				continue // the cached connection was stale
			}
			return nil, fmt.Errorf("open stream to %s: %w", ap, err)
		}
		s.SetWriteDeadline(time.Now().Add(timeout))
		if _, err := s.Write(t.n.keys.streamTag[:]); err != nil {
			s.CancelRead(0)
			s.Close()
			return nil, fmt.Errorf("stream header to %s: %w", ap, err)
		}
		s.SetWriteDeadline(time.Time{})
		return newStreamConn(c, s, true), nil
	}
}

// conn returns a live cached connection to ap or dials one.
func (t *mlTransport) conn(ctx context.Context, ap netip.AddrPort) (*quic.Conn, error) {
	t.mu.Lock()
	c := t.conns[ap]
	t.mu.Unlock()
	if c != nil && c.Context().Err() == nil {
		return c, nil
	}
	conf := t.n.ClientTLS(Fingerprint{})
	conf.NextProtos = []string{ALPNMemberlist}
	c, err := t.n.DialTLS(ctx, ap, conf, quietQUICConfig)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if old := t.conns[ap]; old != nil && old != c {
		old.CloseWithError(0, "replaced")
	}
	t.conns[ap] = c
	t.mu.Unlock()
	return c, nil
}

func (t *mlTransport) forget(ap netip.AddrPort, c *quic.Conn) {
	t.mu.Lock()
	if t.conns[ap] == c {
		delete(t.conns, ap)
	}
	t.mu.Unlock()
	c.CloseWithError(0, "stale")
}

func (t *mlTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown closes the cached outgoing connections. Incoming connections
// close with the node's socket.
func (t *mlTransport) Shutdown() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for ap, c := range t.conns {
		c.CloseWithError(0, "shutdown")
		delete(t.conns, ap)
	}
	return nil
}

// serveConn accepts memberlist streams on an incoming connection until it
// closes.
func (t *mlTransport) serveConn(c *quic.Conn) {
	for {
		s, err := c.AcceptStream(t.n.ctx)
		if err != nil {
			return
		}
		t.n.goroutine(func() { t.acceptStream(c, s) })
	}
}

func (t *mlTransport) acceptStream(c *quic.Conn, s *quic.Stream) {
	refuse := func() {
		s.CancelRead(0)
		s.Close()
	}
	var tag [streamTagLen]byte
	s.SetReadDeadline(time.Now().Add(t.n.cfg.StreamTimeout))
	if _, err := io.ReadFull(s, tag[:]); err != nil {
		refuse()
		return
	}
	s.SetReadDeadline(time.Time{})
	if subtle.ConstantTimeCompare(tag[:], t.n.keys.streamTag[:]) != 1 {
		t.n.log.Warn("memberlist stream refused: wrong or missing drill key", "peer", c.RemoteAddr())
		s.Write([]byte{streamBadKey})
		s.CancelRead(streamCodeBadKey)
		s.Close()
		return
	}
	// A write error here means the dialer already stopped reading (a
	// one-way message): its data is still there to be read.
	s.Write([]byte{streamOK})
	select {
	case t.streamCh <- newStreamConn(c, s, false):
	case <-t.n.ctx.Done():
		refuse()
	}
}

// resolveAddrPort parses "ip:port", resolving a host name when needed.
func resolveAddrPort(addr string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return unmapped(ap), nil
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("resolve %q: %w", addr, err)
	}
	ap := ua.AddrPort()
	return unmapped(ap), nil
}
