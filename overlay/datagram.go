package overlay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
)

// Plane bytes: the first byte of every non-QUIC datagram (0x00-0x3F; quic-go
// takes anything with either top bit set for QUIC). The overlay owns
// memberlist's; each other plane's byte belongs to the package that owns its
// protocol (the query plane's is query.PlaneByte), which registers it with
// HandleDatagrams.
const (
	PlaneMemberlist byte = 0x01
	maxPlane        byte = 0x3F
)

// MaxDatagram is the largest datagram (plane byte included) the node sends or
// receives: quic-go's receive buffers hold 1452 bytes and cut anything longer.
const MaxDatagram = 1452

// Datagram errors.
var (
	// ErrTooLarge: the datagram exceeds MaxDatagram with its plane byte.
	ErrTooLarge = errors.New("datagram too large")
	// ErrBadPlane: the plane byte is outside 0x00-0x3F or reserved.
	ErrBadPlane = errors.New("invalid plane byte")
)

// plane is one datagram plane: a bounded queue drained by its own goroutine.
type plane struct {
	id      byte
	h       func(from netip.AddrPort, b []byte)
	q       chan datagram
	in, out atomic.Uint64
	dropped atomic.Uint64 // queue full
}

type datagram struct {
	from netip.AddrPort
	b    []byte
}

func (p *plane) serve(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-p.q:
			p.h(d.from, d.b)
		}
	}
}

// HandleDatagrams registers h for datagrams whose first byte is plane
// (0x02-0x3F; 0x01 is memberlist's). b excludes the plane byte and belongs to
// h. Datagrams are queued (Config.PlaneQueue, drops counted) and h is called
// from one goroutine per plane, in order; a slow h delays only its own plane.
// Only before Start.
func (n *Node) HandleDatagrams(planeID byte, h func(from netip.AddrPort, b []byte)) error {
	if n.started.Load() {
		return ErrStarted
	}
	if planeID > maxPlane || planeID == PlaneMemberlist {
		return fmt.Errorf("plane %#x: %w", planeID, ErrBadPlane)
	}
	n.planes[planeID] = &plane{id: planeID, h: h, q: make(chan datagram, n.cfg.PlaneQueue)}
	return nil
}

// dispatchRaw handles a datagram read from the socket: memberlist's go to
// memberlist (its own encryption authenticates them when keyed); on every
// other plane a raw datagram proves nothing of its sender and is dropped.
func (n *Node) dispatchRaw(planeID byte, from netip.AddrPort, b []byte) {
	if planeID == PlaneMemberlist {
		n.stats.mlIn.Add(1)
		n.mlt.deliverPacket(from, b)
		return
	}
	if n.planes[planeID] == nil {
		n.stats.droppedUnknownPlane.Add(1)
		return
	}
	n.stats.droppedUnauth.Add(1)
}

// dispatch queues an authenticated datagram from the member whose stand-in
// is from on its plane.
func (n *Node) dispatch(planeID byte, from netip.AddrPort, b []byte) {
	p := n.planes[planeID]
	if p == nil {
		n.stats.droppedUnknownPlane.Add(1)
		return
	}
	if n.cfg.MembersOnlyDatagrams && !n.IsMember(from) {
		n.stats.droppedNonMember.Add(1)
		return
	}
	p.in.Add(1)
	select {
	case p.q <- datagram{from: from, b: b}:
	default:
		p.dropped.Add(1)
	}
}

// SendDatagram sends b on plane to the peer at addr (its stand-in,
// Member.Addr, or a verified path of it) as a QUIC DATAGRAM frame on the
// node's connection to that peer. While there is no connection it holds a
// few datagrams per peer and dials one. It does not block on the network.
// len(b)+1 must not exceed MaxDatagram.
func (n *Node) SendDatagram(to netip.AddrPort, planeID byte, b []byte) error {
	if n.tr == nil {
		return ErrNotStarted
	}
	if planeID > maxPlane || planeID == PlaneMemberlist {
		return fmt.Errorf("plane %#x: %w", planeID, ErrBadPlane)
	}
	if len(b)+1 > MaxDatagram {
		n.stats.droppedOversize.Add(1)
		return fmt.Errorf("%d bytes: %w", len(b)+1, ErrTooLarge)
	}
	msg := make([]byte, len(b)+1)
	msg[0] = planeID
	copy(msg[1:], b)
	id, ok := StandInID(to)
	if !ok {
		if id, ok = n.paths.owner(to); !ok {
			return fmt.Errorf("send to %s: %w", to, ErrNoPath)
		}
	}
	return n.sendOnPlane(id, msg)
}

// writeMemberlist sends a memberlist packet (plane byte first) to a real
// address, unless the fault injector drops it.
func (n *Node) writeMemberlist(to netip.AddrPort, msg []byte) error {
	if n.faults != nil && n.faults.dropMemberlist() {
		return nil
	}
	if _, err := n.tr.WriteTo(msg, net.UDPAddrFromAddrPort(to)); err != nil {
		return fmt.Errorf("send to %s: %w", to, err)
	}
	n.stats.mlOut.Add(1)
	return nil
}
