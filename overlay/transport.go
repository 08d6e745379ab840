package overlay

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/quic-go/quic-go"
)

// ALPNMemberlist is the ALPN of memberlist streams.
const ALPNMemberlist = "servent-ml/1"

// QUIC settings. Dialled connections (leaf attachments, transfers) send
// keep-alives so a dead peer is noticed within the idle timeout; memberlist's
// cached connections and the listener do not, so idle ones expire.
var (
	dialQUICConfig = &quic.Config{
		HandshakeIdleTimeout: 3 * time.Second,
		MaxIdleTimeout:       10 * time.Second,
		KeepAlivePeriod:      3 * time.Second,
	}
	quietQUICConfig = &quic.Config{
		HandshakeIdleTimeout: 3 * time.Second,
		MaxIdleTimeout:       10 * time.Second,
	}
	// listenQUICConfig accepts datagram connections (ALPNDatagram); the
	// idle timeout is the lesser of both sides', so only dialers that ask
	// for more than 10 s (datagram connections) get it.
	listenQUICConfig = &quic.Config{
		HandshakeIdleTimeout: 3 * time.Second,
		MaxIdleTimeout:       dgQUICConfig.MaxIdleTimeout,
		EnableDatagrams:      true,
	}
)

// HandleALPN routes accepted QUIC connections that negotiated proto to h. h
// runs in its own goroutine per connection and must return once the
// connection is closed (Close closes every connection). Only before Start.
func (n *Node) HandleALPN(proto string, h func(*quic.Conn)) error {
	if n.started.Load() {
		return ErrStarted
	}
	if proto == ALPNMemberlist || proto == ALPNDatagram {
		return fmt.Errorf("alpn %q is reserved", proto)
	}
	n.alpn[proto] = h
	return nil
}

func (n *Node) startTransport() error {
	laddr, err := net.ResolveUDPAddr("udp", n.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", n.cfg.Listen, err)
	}
	n.udp, err = net.ListenUDP("udp", laddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", n.cfg.Listen, err)
	}
	// Planes must be ready before the first datagram can arrive.
	n.mlt = newMLTransport(n)
	for _, p := range n.planes {
		n.goroutine(func() { p.serve(n.ctx) })
	}
	n.tr = &quic.Transport{
		Conn:              newDemuxConn(n.udp, n.deliverDatagram),
		Tracer:            dropTracer{&n.stats.droppedQueue},
		StatelessResetKey: n.resetKey(),
	}
	protos := []string{ALPNMemberlist, ALPNDatagram}
	for p := range n.alpn {
		protos = append(protos, p)
	}
	slices.Sort(protos[2:])
	n.ln, err = n.tr.Listen(n.serverTLS(protos), listenQUICConfig)
	if err != nil {
		return fmt.Errorf("quic listen: %w", err)
	}
	n.goroutine(n.acceptLoop)
	return nil
}

// LocalAddr returns the address of the node's UDP socket (after Start).
func (n *Node) LocalAddr() netip.AddrPort {
	if n.udp == nil {
		return netip.AddrPort{}
	}
	return n.udp.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (n *Node) acceptLoop() {
	for {
		c, err := n.ln.Accept(n.ctx)
		if err != nil {
			return
		}
		// A client that proved its key on this address has a verified
		// path here: QUIC's handshake also proved the address answers.
		n.learnConn(c, c.RemoteAddr().(*net.UDPAddr).AddrPort())
		proto := c.ConnectionState().TLS.NegotiatedProtocol
		h := n.alpn[proto]
		switch proto {
		case ALPNMemberlist:
			h = n.mlt.serveConn
		case ALPNDatagram:
			h = n.serveDatagrams
		}
		if h == nil {
			c.CloseWithError(0x100, "no handler for alpn")
			continue
		}
		n.goroutine(func() { h(c) })
	}
}

// Dial opens a QUIC connection with ALPN proto to the member at addr (its
// stand-in, or a real address of a verified path) over the node's socket,
// pinning the fingerprint the member publishes. Without a drill key a
// non-member is dialled unpinned; with one it is refused (ErrNotMember).
// Blocks until the handshake completes or ctx ends.
func (n *Node) Dial(ctx context.Context, addr netip.AddrPort, proto string) (*quic.Conn, error) {
	m, ok := n.MemberByAddr(addr)
	switch {
	case ok:
		return n.DialPinned(ctx, m.Addr, m.Meta.Fingerprint, proto)
	case n.keys.set:
		return nil, fmt.Errorf("dial %s: %w", addr, ErrNotMember)
	}
	return n.DialPinned(ctx, addr, Fingerprint{}, proto)
}

// DialMember is Dial by member name.
func (n *Node) DialMember(ctx context.Context, name, proto string) (*quic.Conn, error) {
	m, ok := n.members.byName(name)
	if !ok {
		return nil, fmt.Errorf("dial %q: %w", name, ErrNotMember)
	}
	return n.DialPinned(ctx, m.Addr, m.Meta.Fingerprint, proto)
}

// DialPinned opens a QUIC connection with ALPN proto to addr over the node's
// socket, accepting only a server whose fingerprint is expect (any when zero).
func (n *Node) DialPinned(ctx context.Context, addr netip.AddrPort, expect Fingerprint, proto string) (*quic.Conn, error) {
	conf := n.ClientTLS(expect)
	conf.NextProtos = []string{proto}
	return n.DialTLS(ctx, addr, conf, nil)
}

// DialTLS opens a QUIC connection to addr over the node's socket with the
// caller's TLS config (build it from ClientTLS to keep pinning) and QUIC
// config (nil: the node's, with keep-alives). A stand-in address (a member's
// Addr, a search hit's source) is dialled on the member's paths, happy-
// eyeballs style. It fits http3.Transport.Dial once the address is parsed.
// Blocks until the handshake completes or ctx ends.
func (n *Node) DialTLS(ctx context.Context, addr netip.AddrPort, conf *tls.Config, qconf *quic.Config) (*quic.Conn, error) {
	if n.tr == nil {
		return nil, ErrNotStarted
	}
	if id, ok := StandInID(addr); ok {
		return n.dialID(ctx, id, conf, qconf)
	}
	c, _, err := n.raceDial(ctx, []netip.AddrPort{unmapped(addr)}, conf, qconf)
	return c, err
}

// resetKey derives the QUIC stateless reset key from the node's persistent
// key: after a restart the node can still reset connections its previous
// run held, so peers notice at once instead of after the idle timeout.
func (n *Node) resetKey() *quic.StatelessResetKey {
	priv, ok := n.cert.PrivateKey.(ed25519.PrivateKey)
	if !ok {
		return nil
	}
	k, err := hkdf.Key(sha256.New, priv.Seed(), nil, "servent quic stateless reset", 32)
	if err != nil {
		return nil
	}
	var key quic.StatelessResetKey
	copy(key[:], k)
	return &key
}
