package overlay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/quic-go/quic-go"
)

// dialStagger is how long a dial waits for one candidate address before it
// also tries the next (happy eyeballs, RFC 8305's 250 ms, shortened for a LAN).
const dialStagger = 100 * time.Millisecond

// maxProbes bounds the path probes one node runs at once: a node that
// joins a network of hundreds learns them all in one push/pull.
const maxProbes = 8

// ErrNoPath: no address of the peer is known yet.
var ErrNoPath = errors.New("no known address for this peer yet")

// dialID opens a QUIC connection to the node id with the caller's TLS and
// QUIC configs: on a verified path when it has one, else on every candidate,
// one more every dialStagger; the first handshake to complete wins and
// becomes the verified path. Blocks until then or ctx ends.
func (n *Node) dialID(ctx context.Context, id NodeID, conf *tls.Config, qconf *quic.Config) (*quic.Conn, error) {
	cands := n.paths.candidates(id, n.localAddrs())
	if len(cands) == 0 {
		return nil, fmt.Errorf("node %s: %w", id, ErrNoPath)
	}
	c, _, err := n.raceDial(ctx, cands, conf, qconf)
	if err != nil {
		if best, ok := n.paths.best(id); ok && ctx.Err() == nil {
			n.paths.demote(id, best)
		}
		return nil, fmt.Errorf("node %s: %w", id, err)
	}
	return c, nil
}

type dialResult struct {
	c    *quic.Conn
	addr netip.AddrPort
	err  error
}

// raceDial dials addrs in order, starting the next one every dialStagger
// or as soon as one fails, and returns the first connection whose handshake
// completes. Later winners are closed. Each completed handshake is recorded
// as a verified path of the server's key.
func (n *Node) raceDial(ctx context.Context, addrs []netip.AddrPort, conf *tls.Config, qconf *quic.Config) (*quic.Conn, netip.AddrPort, error) {
	if n.tr == nil {
		return nil, netip.AddrPort{}, ErrNotStarted
	}
	if qconf == nil {
		qconf = dialQUICConfig
	}
	ctx, cancel := context.WithCancel(ctx)
	results := make(chan dialResult, len(addrs))
	next := time.NewTimer(0)
	defer next.Stop()
	started, pending := 0, 0
	var errs []error
	for {
		select {
		case <-next.C:
			if started < len(addrs) {
				a := addrs[started]
				started++
				pending++
				go func() {
					c, err := n.tr.Dial(ctx, net.UDPAddrFromAddrPort(a), conf.Clone(), qconf)
					results <- dialResult{c, a, err}
				}()
				next.Reset(dialStagger)
			}
		case r := <-results:
			pending--
			if r.err == nil {
				n.learnConn(r.c, r.addr)
				cancel()
				n.closeLateWinners(results, pending)
				return r.c, r.addr, nil
			}
			errs = append(errs, fmt.Errorf("%s: %w", r.addr, r.err))
			if pending == 0 && started == len(addrs) {
				cancel()
				return nil, netip.AddrPort{}, fmt.Errorf("quic dial: %w", errors.Join(errs...))
			}
			if started < len(addrs) {
				next.Reset(0)
			}
		case <-ctx.Done():
			err := context.Cause(ctx)
			cancel()
			n.closeLateWinners(results, pending)
			return nil, netip.AddrPort{}, fmt.Errorf("quic dial: %w", err)
		}
	}
}

// closeLateWinners waits for the pending dials of a finished race (their
// context is cancelled, so they end soon) and closes any that completed.
func (n *Node) closeLateWinners(results <-chan dialResult, pending int) {
	if pending == 0 {
		return
	}
	go func() {
		for range pending {
			if r := <-results; r.err == nil {
				r.c.CloseWithError(0, "another path won")
			}
		}
	}()
}

// learnConn records the path of an established connection under the key
// its peer proved in the handshake.
func (n *Node) learnConn(c *quic.Conn, remote netip.AddrPort) {
	certs := c.ConnectionState().TLS.PeerCertificates
	if len(certs) == 0 {
		return
	}
	n.paths.verify(FingerprintOf(certs[0]), remote, time.Now())
}

// peerFingerprint is the key a connection's peer proved in its handshake.
func peerFingerprint(c *quic.Conn) (Fingerprint, bool) {
	certs := c.ConnectionState().TLS.PeerCertificates
	if len(certs) == 0 {
		return Fingerprint{}, false
	}
	return FingerprintOf(certs[0]), true
}

// probe finds a verified path to id in the background (at most one probe
// per peer at a time, and not again within probeRetryAfter): a memberlist
// connection dialled on its candidates, kept for memberlist's streams.
// It starts after a random delay of up to spread: a node that learns a
// whole network in one push/pull does not dial every member at once.
func (n *Node) probe(id NodeID, spread time.Duration) {
	if id == n.id || n.ctx == nil || !n.paths.startProbe(id, time.Now()) {
		return
	}
	n.goroutine(func() {
		defer n.paths.finishProbe(id)
		if spread > 0 {
			t := time.NewTimer(rand.N(spread))
			select {
			case <-t.C:
			case <-n.ctx.Done():
				t.Stop()
				return
			}
		}
		select {
		case n.probes <- struct{}{}:
			defer func() { <-n.probes }()
		case <-n.ctx.Done():
			return
		}
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.StreamTimeout)
		defer cancel()
		if _, err := n.mlt.connTo(ctx, id); err != nil {
			n.log.Debug("no path to peer yet", "peer", id, "err", err)
		}
	})
}

// idTLS is a client config for dialling node id: pinned to its fingerprint
// when known, else to any key whose NodeID is id.
func (n *Node) idTLS(id NodeID, proto string) *tls.Config {
	conf := n.ClientTLS(n.paths.fingerprint(id))
	conf.NextProtos = []string{proto}
	pin := conf.VerifyConnection
	conf.VerifyConnection = func(cs tls.ConnectionState) error {
		if err := pin(cs); err != nil {
			return err
		}
		if got := IDOf(FingerprintOf(cs.PeerCertificates[0])); got != id {
			return fmt.Errorf("node %s answered for %s: %w", got, id, ErrFingerprintMismatch)
		}
		return nil
	}
	return conf
}
