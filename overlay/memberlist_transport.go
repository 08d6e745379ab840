package overlay

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/quic-go/quic-go"
	"golang.org/x/time/rate"
)

// mlTransport is memberlist's transport on the node's shared socket: packets
// are datagrams on PlaneMemberlist, streams are QUIC streams on connections
// with ALPN ALPNMemberlist. memberlist knows every member by its stand-in
// address (StandIn); the transport resolves it per packet to the member's
// verified path, or while there is none, to its candidate addresses.
//
// A packet is the plane byte, the sender's NodeID (8 bytes, a hint of who
// sent it from where; memberlist's own encryption authenticates the rest
// when a drill key is set) and memberlist's message. Each stream starts with
// a 16-byte tag derived from the drill key (zeros without one); the acceptor
// answers with a status byte, so a key mismatch surfaces as ErrDrillKey
// instead of a silent EOF.
type mlTransport struct {
	n        *Node
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn

	mu    sync.Mutex
	conns map[NodeID]*quic.Conn // outgoing, reused per peer

	refusedLog rate.Sometimes // a host with another key retries all the time
}

var _ memberlist.NodeAwareTransport = (*mlTransport)(nil)

// maxPacketFanout is how many candidate addresses one memberlist packet
// goes to while a member has no verified path.
const maxPacketFanout = 3

func newMLTransport(n *Node) *mlTransport {
	return &mlTransport{
		n:        n,
		packetCh: make(chan *memberlist.Packet, 1024),
		streamCh: make(chan net.Conn, 64),
		conns:    make(map[NodeID]*quic.Conn),

		refusedLog: rate.Sometimes{First: 3, Interval: 10 * time.Second},
	}
}

// deliverPacket hands a memberlist packet over without blocking the reader.
// The sender's NodeID becomes a path hint and the packet's From its stand-in.
func (t *mlTransport) deliverPacket(from netip.AddrPort, b []byte) {
	if len(b) < len(NodeID{}) {
		t.n.stats.droppedMalformed.Add(1)
		return
	}
	var id NodeID
	copy(id[:], b)
	b = b[len(id):]
	if id == t.n.id {
		t.n.stats.droppedMalformed.Add(1) // our own packet, looped back
		return
	}
	t.n.paths.hint(id, Fingerprint{}, from, time.Now())
	p := &memberlist.Packet{Buf: b, From: net.UDPAddrFromAddrPort(StandIn(id, from.Port())), Timestamp: time.Now()}
	select {
	case t.packetCh <- p:
	default:
		t.n.stats.mlDropped.Add(1)
	}
}

func (t *mlTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	a := StandIn(t.n.id, t.n.LocalAddr().Port())
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
	if len(b)+1+len(NodeID{}) > MaxDatagram {
		t.n.stats.droppedOversize.Add(1)
		return time.Time{}, fmt.Errorf("%d bytes: %w", len(b), ErrTooLarge)
	}
	msg := make([]byte, 0, 1+len(NodeID{})+len(b))
	msg = append(msg, PlaneMemberlist)
	msg = append(msg, t.n.id[:]...)
	msg = append(msg, b...)
	now := time.Now()
	id, ok := StandInID(ap)
	if !ok {
		return now, t.n.writeMemberlist(ap, msg)
	}
	if path, ok := t.n.paths.best(id); ok {
		return now, t.n.writeMemberlist(path, msg)
	}
	if heard, ok := t.n.paths.heard(id); ok {
		return now, t.n.writeMemberlist(heard, msg)
	}
	cands := t.n.paths.candidates(id, t.n.localAddrs())
	if len(cands) == 0 {
		return now, fmt.Errorf("member %s: %w", id, ErrNoPath)
	}
	var errs []error
	for _, c := range cands[:min(len(cands), maxPacketFanout)] {
		if err := t.n.writeMemberlist(c, msg); err != nil {
			errs = append(errs, err)
		}
	}
	return now, errors.Join(errs...)
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
		var c *quic.Conn
		if id, ok := StandInID(ap); ok {
			c, err = t.connTo(ctx, id)
		} else {
			c, _, err = t.dialAddr(ctx, ap)
		}
		if err != nil {
			return nil, err
		}
		s, err := c.OpenStreamSync(ctx)
		if err != nil {
			t.forget(c)
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

// connTo returns a live cached connection to node id or dials one on its
// paths, pinned to its key.
func (t *mlTransport) connTo(ctx context.Context, id NodeID) (*quic.Conn, error) {
	if c := t.cached(id); c != nil {
		return c, nil
	}
	c, err := t.n.dialID(ctx, id, t.n.idTLS(id, ALPNMemberlist), quietQUICConfig)
	if err != nil {
		return nil, err
	}
	t.keep(id, c)
	return c, nil
}

// dialAddr dials a real address (a seed, a cached peer), learning the key
// of whoever answers there, and keeps the connection for that node. With a
// drill key the memberlist stream tag proves membership; the handshake
// alone proves only the key.
func (t *mlTransport) dialAddr(ctx context.Context, ap netip.AddrPort) (*quic.Conn, NodeID, error) {
	conf := t.n.ClientTLS(Fingerprint{})
	conf.NextProtos = []string{ALPNMemberlist}
	c, _, err := t.n.raceDial(ctx, []netip.AddrPort{ap}, conf, quietQUICConfig)
	if err != nil {
		return nil, NodeID{}, err
	}
	fp, _ := peerFingerprint(c)
	id := IDOf(fp)
	t.keep(id, c)
	return c, id, nil
}

// cached returns the live cached outgoing connection to node id, or nil.
func (t *mlTransport) cached(id NodeID) *quic.Conn {
	t.mu.Lock()
	c := t.conns[id]
	t.mu.Unlock()
	if c == nil || c.Context().Err() != nil {
		return nil
	}
	return c
}

func (t *mlTransport) keep(id NodeID, c *quic.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.conns[id]; old != nil && old != c {
		old.CloseWithError(0, "replaced")
	}
	t.conns[id] = c
}

func (t *mlTransport) forget(c *quic.Conn) {
	t.mu.Lock()
	for id, x := range t.conns {
		if x == c {
			delete(t.conns, id)
		}
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
	for id, c := range t.conns {
		c.CloseWithError(0, "shutdown")
		delete(t.conns, id)
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
		t.n.stats.streamsRefused.Add(1)
		t.refusedLog.Do(func() {
			t.n.log.Warn("memberlist stream refused: wrong or missing drill key (logged at most every 10 s; Stats.StreamsRefused counts all)", "peer", c.RemoteAddr())
		})
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
