package overlay

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Path table bounds.
const (
	maxPeerPaths  = 4096 // peers remembered; the oldest unverified go first
	maxVerified   = 4    // verified paths kept per peer
	maxHints      = 4    // unverified source addresses kept per peer
	maxMetaAddrs  = 16   // addresses a node publishes in its metadata
	maxCandidates = 8    // addresses one dial or packet fan-out tries
)

// peerPaths is what this node knows of the ways to reach one peer.
type peerPaths struct {
	fp       Fingerprint      // zero until metadata, a beacon or a handshake names it
	verified []netip.AddrPort // a pinned QUIC handshake completed on these, newest first
	hints    []netip.AddrPort // sources of its packets and beacons, newest first
	meta     []netip.Addr     // what it publishes (no zones)
	port     uint16           // its UDP port, from metadata
	touched  time.Time
}

// pathTable maps peers (by key) to paths. Safe for concurrent use.
type pathTable struct {
	mu     sync.Mutex
	peers  map[NodeID]*peerPaths
	byAddr map[netip.AddrPort]NodeID // verified paths only
}

func newPathTable() *pathTable {
	return &pathTable{peers: make(map[NodeID]*peerPaths), byAddr: make(map[netip.AddrPort]NodeID)}
}

// entry returns id's record, creating it (and evicting when full). Locked.
func (t *pathTable) entry(id NodeID, now time.Time) *peerPaths {
	p := t.peers[id]
	if p == nil {
		if len(t.peers) >= maxPeerPaths {
			t.evictLocked()
		}
		p = &peerPaths{}
		t.peers[id] = p
	}
	p.touched = now
	return p
}

// evictBatch is how many peers one eviction drops: a scan of the whole
// table per batch, not per new key, so a flood of packets naming made-up
// keys costs O(log n) per packet instead of a scan each
// (BenchmarkPathHintFlood).
const evictBatch = maxPeerPaths / 8

// evictLocked drops evictBatch peers: unverified ones before any verified
// one, the least recently touched first.
func (t *pathTable) evictLocked() {
	type entry struct {
		order int64 // unverified before verified, then by last touch
		id    NodeID
		p     *peerPaths
	}
	all := make([]entry, 0, len(t.peers))
	for id, p := range t.peers {
		all = append(all, entry{evictOrder(p), id, p})
	}
	slices.SortFunc(all, func(a, b entry) int { return cmp.Compare(a.order, b.order) })
	for _, e := range all[:min(evictBatch, len(all))] {
		for _, a := range e.p.verified {
			if t.byAddr[a] == e.id {
				delete(t.byAddr, a)
			}
		}
		delete(t.peers, e.id)
	}
}

// evictOrder ranks p for eviction, lowest first: peers without a verified
// path before any with one, the least recently touched first among those.
func evictOrder(p *peerPaths) int64 {
	order := p.touched.UnixNano() >> 1 // room for the verified bit on top
	if len(p.verified) > 0 {
		order += math.MaxInt64 >> 1
	}
	return order
}

// verify records that a handshake pinned to fp completed on addr.
func (t *pathTable) verify(fp Fingerprint, addr netip.AddrPort, now time.Time) {
	addr = unmapped(addr)
	id := IDOf(fp)
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.byAddr[addr]; ok && old != id {
		// The address moved to another node (DHCP handed it on).
		if p := t.peers[old]; p != nil {
			p.verified = slices.DeleteFunc(p.verified, func(a netip.AddrPort) bool { return a == addr })
		}
	}
	p := t.entry(id, now)
	p.fp = fp
	p.verified = pushFront(p.verified, addr, maxVerified, func(dropped netip.AddrPort) {
		if t.byAddr[dropped] == id {
			delete(t.byAddr, dropped)
		}
	})
	t.byAddr[addr] = id
}

// hint records addr as a source of id's traffic: a candidate, not proof.
func (t *pathTable) hint(id NodeID, fp Fingerprint, addr netip.AddrPort, now time.Time) {
	addr = unmapped(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.entry(id, now)
	if p.fp.IsZero() && !fp.IsZero() && IDOf(fp) == id {
		p.fp = fp
	}
	if !slices.Contains(p.verified, addr) {
		p.hints = pushFront(p.hints, addr, maxHints, nil)
	}
}

// setMeta records what id publishes: its key, addresses and port.
func (t *pathTable) setMeta(id NodeID, fp Fingerprint, addrs []netip.Addr, port uint16, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.entry(id, now)
	if !fp.IsZero() && IDOf(fp) == id {
		p.fp = fp
	}
	p.meta = slices.Clone(addrs)
	p.port = port
}

// demote forgets addr as a verified path of id (a dial on it failed).
func (t *pathTable) demote(id NodeID, addr netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.peers[id]
	if p == nil {
		return
	}
	p.verified = slices.DeleteFunc(p.verified, func(a netip.AddrPort) bool { return a == addr })
	if t.byAddr[addr] == id {
		delete(t.byAddr, addr)
	}
}

// best returns id's newest verified path.
func (t *pathTable) best(id NodeID) (netip.AddrPort, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.peers[id]; p != nil && len(p.verified) > 0 {
		return p.verified[0], true
	}
	return netip.AddrPort{}, false
}

// fingerprint returns id's key fingerprint when known.
func (t *pathTable) fingerprint(id NodeID) Fingerprint {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.peers[id]; p != nil {
		return p.fp
	}
	return Fingerprint{}
}

// owner returns the node whose verified path addr is.
func (t *pathTable) owner(addr netip.AddrPort) (NodeID, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.byAddr[unmapped(addr)]
	return id, ok
}

// candidates lists the addresses to try for id, best first: verified
// paths, then sources its packets came from, then what it publishes (an
// IPv6 link-local address once per local interface that has one, since
// its zone is this host's interface). Addresses of this host itself are
// left out: a docker bridge's 172.17.0.1 is on every host and leads
// nowhere.
func (t *pathTable) candidates(id NodeID, locals []localAddr) []netip.AddrPort {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.peers[id]
	if p == nil {
		return nil
	}
	own := make(map[netip.Addr]bool, len(locals))
	var llZones []string
	for _, l := range locals {
		own[l.Addr.WithZone("")] = true
		if l.Addr.Is6() && l.Addr.IsLinkLocalUnicast() && !slices.Contains(llZones, l.Iface) {
			llZones = append(llZones, l.Iface)
		}
	}
	var out []netip.AddrPort
	add := func(a netip.AddrPort) {
		if len(out) < maxCandidates && a.IsValid() && !own[a.Addr().WithZone("")] && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, a := range p.verified {
		add(a)
	}
	for _, a := range p.hints {
		add(a)
	}
	for _, a := range p.meta {
		if a.Is6() && a.IsLinkLocalUnicast() {
			for _, z := range llZones {
				add(netip.AddrPortFrom(a.WithZone(z), p.port))
			}
			continue
		}
		add(netip.AddrPortFrom(a, p.port))
	}
	return out
}

// heard returns where id's packets last came from: where it is heard,
// not yet proven to be it.
func (t *pathTable) heard(id NodeID) (netip.AddrPort, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.peers[id]; p != nil && len(p.hints) > 0 {
		return p.hints[0], true
	}
	return netip.AddrPort{}, false
}

// pushFront puts a at the front of s (moving it if present), keeping at most
// limit entries; dropped, when set, sees each entry that falls off.
func pushFront(s []netip.AddrPort, a netip.AddrPort, limit int, dropped func(netip.AddrPort)) []netip.AddrPort {
	s = slices.DeleteFunc(s, func(x netip.AddrPort) bool { return x == a })
	s = slices.Insert(s, 0, a)
	for len(s) > limit {
		if dropped != nil {
			dropped(s[len(s)-1])
		}
		s = s[:len(s)-1]
	}
	return s
}
