package overlay

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/quic-go/quic-go"
)

// State is a member's liveness as seen by this node.
type State uint8

// Member states.
const (
	StateAlive State = iota
	StateSuspect
	StateDead
	StateLeft
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateSuspect:
		return "suspect"
	case StateDead:
		return "dead"
	case StateLeft:
		return "left"
	}
	return "unknown"
}

// Member is one node of the membership, this node included.
type Member struct {
	Name  string
	Addr  netip.AddrPort // the member's stand-in (StandIn); PathTo resolves it
	Meta  Meta
	State State
}

// EventKind says what happened to a member.
type EventKind uint8

// Event kinds.
const (
	EventJoin EventKind = iota + 1
	EventLeave
	EventUpdate
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case EventJoin:
		return "join"
	case EventLeave:
		return "leave"
	case EventUpdate:
		return "update"
	}
	return "unknown"
}

// Event is a membership change. Leave covers graceful leaves and deaths.
type Event struct {
	Kind   EventKind
	Member Member
}

// memberTable indexes the current members by name and by key.
type memberTable struct {
	mu   sync.RWMutex
	byN  map[string]Member
	byID map[NodeID]string
}

func newMemberTable() memberTable {
	return memberTable{byN: make(map[string]Member), byID: make(map[NodeID]string)}
}

// memberID is the key a member is known by: its stand-in names it.
func memberID(m Member) NodeID {
	if id, ok := StandInID(m.Addr); ok {
		return id
	}
	return IDOf(m.Meta.Fingerprint)
}

func (t *memberTable) put(m Member) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.byN[m.Name]; ok && memberID(old) != memberID(m) {
		delete(t.byID, memberID(old))
	}
	t.byN[m.Name] = m
	t.byID[memberID(m)] = m.Name
}

func (t *memberTable) remove(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.byN[name]; ok {
		delete(t.byID, memberID(old))
		delete(t.byN, name)
	}
}

// unmapped turns an IPv4-mapped IPv6 address (a dual-stack socket's view
// of an IPv4 peer) into the IPv4 address members are known by.
func unmapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func (t *memberTable) byName(name string) (Member, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	m, ok := t.byN[name]
	return m, ok
}

func (t *memberTable) lookupID(id NodeID) (Member, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	name, ok := t.byID[id]
	if !ok {
		return Member{}, false
	}
	m, ok := t.byN[name]
	return m, ok
}

func (t *memberTable) hasFingerprint(fp Fingerprint) bool {
	m, ok := t.lookupID(IDOf(fp))
	return ok && m.Meta.Fingerprint == fp
}

func (t *memberTable) count() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.byN)
}

func memberOf(nd *memberlist.Node) Member {
	ip, _ := netip.AddrFromSlice(nd.Addr)
	meta, _ := DecodeMeta(nd.Meta) // undecodable metadata leaves Meta zero
	return Member{
		Name:  nd.Name,
		Addr:  netip.AddrPortFrom(ip.Unmap(), nd.Port),
		Meta:  meta,
		State: State(nd.State),
	}
}

// Members returns the alive and suspect members, this node included, sorted
// by name. Safe for concurrent use. It reads the table the event delegate
// keeps: memberlist's own Members hands out nodes it mutates unlocked.
func (n *Node) Members() []Member {
	n.members.mu.RLock()
	out := make([]Member, 0, len(n.members.byN))
	for _, m := range n.members.byN {
		out = append(out, m)
	}
	n.members.mu.RUnlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// NumMembers returns the number of alive and suspect members, this node included.
func (n *Node) NumMembers() int {
	if n.ml == nil {
		return 0
	}
	return n.ml.NumMembers()
}

// IsMember reports whether addr is a current member's stand-in or a
// verified path of one.
func (n *Node) IsMember(addr netip.AddrPort) bool {
	_, ok := n.MemberByAddr(addr)
	return ok
}

// MemberByAddr returns the current member addr names: its stand-in
// (Member.Addr), or a real address this node verified as its path (the
// source of a datagram). An address never verified names nobody: a
// datagram's source address alone proves nothing.
func (n *Node) MemberByAddr(addr netip.AddrPort) (Member, bool) {
	id, ok := StandInID(addr)
	if !ok {
		if id, ok = n.paths.owner(addr); !ok {
			return Member{}, false
		}
	}
	return n.members.lookupID(id)
}

// MemberByConn returns the current member at the other end of c, by the key
// it proved in the handshake.
func (n *Node) MemberByConn(c *quic.Conn) (Member, bool) {
	fp, ok := peerFingerprint(c)
	if !ok {
		return Member{}, false
	}
	m, ok := n.members.lookupID(IDOf(fp))
	if !ok || m.Meta.Fingerprint != fp {
		return Member{}, false
	}
	return m, true
}

// PathTo returns the address this node reaches member m at: the newest
// path a pinned QUIC handshake completed on (an IPv6 link-local one with
// this host's interface as zone), and false while there is none.
func (n *Node) PathTo(m Member) (netip.AddrPort, bool) {
	id := memberID(m)
	if id == n.id {
		return n.LocalAddr(), true
	}
	return n.paths.best(id)
}

// MemberByName returns the current member named name. Safe for concurrent use.
func (n *Node) MemberByName(name string) (Member, bool) { return n.members.byName(name) }

func (n *Node) isMemberFingerprint(fp Fingerprint) bool { return n.members.hasFingerprint(fp) }

// Events returns the membership event channel. Events are dropped (and
// counted in Stats.EventsDropped) when it is full, never blocking memberlist:
// after a drop, re-read Members.
func (n *Node) Events() <-chan Event { return n.events }

// eventDelegate implements memberlist.EventDelegate; memberlist calls it
// synchronously, so it never blocks.
type eventDelegate struct{ n *Node }

var _ memberlist.EventDelegate = eventDelegate{}

func (d eventDelegate) NotifyJoin(nd *memberlist.Node) {
	m := memberOf(nd)
	d.n.learnMember(m)
	d.n.members.put(m)
	d.n.emit(EventJoin, m)
}

func (d eventDelegate) NotifyLeave(nd *memberlist.Node) {
	m := memberOf(nd)
	// Its paths stay (the table is bounded): memberlist keeps gossiping to
	// dead members for a while, so a node declared dead by mistake hears
	// it and refutes.
	d.n.members.remove(m.Name)
	d.n.emit(EventLeave, m)
}

func (d eventDelegate) NotifyUpdate(nd *memberlist.Node) {
	m := memberOf(nd)
	d.n.learnMember(m)
	d.n.members.put(m)
	d.n.emit(EventUpdate, m)
}

// learnProbeSpread spreads the path probes a node starts for members it
// has just learnt of.
const learnProbeSpread = 2 * time.Second

// learnMember records the key and addresses a member publishes, and starts
// looking for a path to it.
func (n *Node) learnMember(m Member) {
	id := memberID(m)
	if id == n.id {
		return
	}
	n.paths.setMeta(id, m.Meta.Fingerprint, m.Meta.Addrs, m.Meta.QUICPort, time.Now())
	n.probe(id, learnProbeSpread)
}

func (n *Node) emit(k EventKind, m Member) {
	select {
	case n.events <- Event{Kind: k, Member: m}:
	default:
		n.stats.eventsDropped.Add(1)
	}
}
