package overlay

import (
	"encoding/hex"
	"net/netip"
)

// NodeID names a node by its key: the first 8 bytes of its fingerprint.
// Peers are keys, addresses are paths: a node has many addresses (every
// interface, IPv4 and IPv6, link-local ones meaningful only with the
// receiving interface as zone), so nothing that outlives one packet is keyed
// by an address.
type NodeID [8]byte

// IDOf returns the NodeID of the key with fingerprint fp.
func IDOf(fp Fingerprint) NodeID {
	var id NodeID
	copy(id[:], fp[:])
	return id
}

// String returns the ID in hex.
func (id NodeID) String() string { return hex.EncodeToString(id[:]) }

// standInPrefix is where stand-in addresses live: 100::/64, the IPv6
// discard-only prefix (RFC 6666), so a stand-in is never a real destination.
var standInPrefix = netip.MustParsePrefix("100::/64")

// StandIn is the address memberlist knows a node by. memberlist gossips one
// raw IP and port per member and loses IPv6 zones; the overlay gives it a
// stable stand-in built from the node's key (100:: plus the NodeID) and
// resolves it, packet by packet, to the path that works from this node.
// The port is the node's real UDP port, for display only.
func StandIn(id NodeID, port uint16) netip.AddrPort {
	var a [16]byte
	a[0], a[1] = 0x01, 0x00
	copy(a[8:], id[:])
	return netip.AddrPortFrom(netip.AddrFrom16(a), port)
}

// StandIn returns the node's own stand-in address, the one memberlist and
// every member know it by.
func (n *Node) StandIn() netip.AddrPort { return StandIn(n.id, n.LocalAddr().Port()) }

// StandInID returns the NodeID a stand-in address names, and false for any
// other address.
func StandInID(a netip.AddrPort) (NodeID, bool) {
	ip := a.Addr()
	if !ip.Is6() || ip.Is4In6() || !standInPrefix.Contains(ip.WithZone("")) {
		return NodeID{}, false
	}
	b := ip.As16()
	var id NodeID
	copy(id[:], b[8:])
	return id, true
}
