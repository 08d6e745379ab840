package overlay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// ALPNDatagram is the ALPN of the connections that carry every datagram
// plane but memberlist's (the query plane) as QUIC DATAGRAM frames (RFC
// 9221): still unreliable datagrams, but each one authenticated as coming
// from the key that completed the handshake, and encrypted. A raw UDP
// datagram on such a plane proves nothing about its sender and is dropped
// unread (Stats.DroppedUnauthenticated).
const ALPNDatagram = "servent-dg/1"

// dgQUICConfig: datagram connections live while used; an idle one closes
// after a minute and is dialled again on the next datagram.
var dgQUICConfig = &quic.Config{
	HandshakeIdleTimeout: 3 * time.Second,
	MaxIdleTimeout:       60 * time.Second,
	EnableDatagrams:      true,
}

// dgConns holds one datagram connection per peer, dialled or accepted.
type dgConns struct {
	mu      sync.Mutex
	byID    map[NodeID]*quic.Conn
	dialing map[NodeID]bool
}

// dgConn returns the live datagram connection to id, if any.
func (n *Node) dgConn(id NodeID) *quic.Conn {
	n.dg.mu.Lock()
	defer n.dg.mu.Unlock()
	c := n.dg.byID[id]
	if c != nil && c.Context().Err() != nil {
		delete(n.dg.byID, id)
		return nil
	}
	return c
}

// sendOnPlane sends msg (plane byte first) to node id as a QUIC DATAGRAM.
// Without a connection it holds msg (a few per peer) and dials one in the
// background; the held datagrams go out when it is up.
func (n *Node) sendOnPlane(id NodeID, msg []byte) error {
	c := n.dgConn(id)
	if c == nil {
		n.holdPending(id, msg)
		n.dialDatagrams(id)
		return nil
	}
	return n.sendDatagramFrame(c, msg)
}

// sendDatagramFrame sends msg on c, through the fault injector when one
// is set (its delayed copies report no error).
func (n *Node) sendDatagramFrame(c *quic.Conn, msg []byte) error {
	if n.faults != nil {
		n.faults.send(msg, func(m []byte) { n.sendFrame(c, m) })
		return nil
	}
	return n.sendFrame(c, msg)
}

// sendFrame sends one DATAGRAM frame and counts it, sent or dropped.
func (n *Node) sendFrame(c *quic.Conn, msg []byte) error {
	if err := c.SendDatagram(msg); err != nil {
		n.stats.droppedSend.Add(1)
		var tooLarge *quic.DatagramTooLargeError
		if errors.As(err, &tooLarge) {
			return fmt.Errorf("%d bytes, connection takes %d: %w", len(msg), tooLarge.MaxDatagramPayloadSize, ErrTooLarge)
		}
		return fmt.Errorf("send datagram: %w", err)
	}
	if p := n.planes[msg[0]]; p != nil {
		p.out.Add(1)
	}
	return nil
}

// dialDatagrams opens a datagram connection to id in the background (one
// dial per peer at a time) and sends what waited for it.
func (n *Node) dialDatagrams(id NodeID) {
	n.dg.mu.Lock()
	if n.dg.dialing[id] {
		n.dg.mu.Unlock()
		return
	}
	n.dg.dialing[id] = true
	n.dg.mu.Unlock()
	n.goroutine(func() {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.StreamTimeout)
		c, err := n.dialID(ctx, id, n.idTLS(id, ALPNDatagram), dgQUICConfig)
		cancel()
		n.dg.mu.Lock()
		delete(n.dg.dialing, id)
		n.dg.mu.Unlock()
		if err != nil {
			n.log.Debug("no datagram connection", "peer", id, "err", err)
			n.dropPending(id)
			return
		}
		n.serveDatagrams(c)
	})
}

// serveDatagrams registers c as the datagram connection of its peer, sends
// what waited for it, and delivers its datagrams until it closes. It runs
// for accepted and dialled connections alike: either way serves both
// directions.
func (n *Node) serveDatagrams(c *quic.Conn) {
	fp, ok := peerFingerprint(c)
	if !ok {
		c.CloseWithError(0x101, "no client certificate")
		return
	}
	id := IDOf(fp)
	n.dg.mu.Lock()
	n.dg.byID[id] = c
	n.dg.mu.Unlock()
	defer func() {
		n.dg.mu.Lock()
		if n.dg.byID[id] == c {
			delete(n.dg.byID, id)
		}
		n.dg.mu.Unlock()
	}()
	for _, msg := range n.takePending(id) {
		n.sendDatagramFrame(c, msg)
	}
	from := StandIn(id, 0)
	for {
		b, err := c.ReceiveDatagram(n.ctx)
		if err != nil {
			return
		}
		if len(b) == 0 || b[0] == PlaneMemberlist {
			n.stats.droppedMalformed.Add(1)
			continue
		}
		n.dispatch(b[0], from, b[1:])
	}
}
