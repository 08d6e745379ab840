package overlay

import (
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/memberlist"
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
	Addr  netip.AddrPort // the member's UDP socket (QUIC and datagrams)
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

// memberTable indexes the current members by name and address.
type memberTable struct {
	mu     sync.RWMutex
	byN    map[string]Member
	byAddr map[netip.AddrPort]string
}

func newMemberTable() memberTable {
	return memberTable{byN: make(map[string]Member), byAddr: make(map[netip.AddrPort]string)}
}

func (t *memberTable) put(m Member) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.byN[m.Name]; ok && old.Addr != m.Addr {
		delete(t.byAddr, old.Addr)
	}
	t.byN[m.Name] = m
	t.byAddr[m.Addr] = m.Name
}

func (t *memberTable) remove(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.byN[name]; ok {
		delete(t.byAddr, old.Addr)
		delete(t.byN, name)
	}
}

// unmapped turns an IPv4-mapped IPv6 address (a dual-stack socket's view
// of an IPv4 peer) into the IPv4 address members are known by.
func unmapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func (t *memberTable) hasAddr(a netip.AddrPort) bool {
	a = unmapped(a)
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, ok := t.byAddr[a]
	return ok
}

func (t *memberTable) byName(name string) (Member, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	m, ok := t.byN[name]
	return m, ok
}

func (t *memberTable) lookupAddr(a netip.AddrPort) (Member, bool) {
	a = unmapped(a)
	t.mu.RLock()
	defer t.mu.RUnlock()
	m, ok := t.byN[t.byAddr[a]]
	return m, ok
}

func (t *memberTable) hasFingerprint(fp Fingerprint) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, m := range t.byN {
		if m.Meta.Fingerprint == fp {
			return true
		}
	}
	return false
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

// IsMember reports whether addr is the socket address of a current member.
func (n *Node) IsMember(addr netip.AddrPort) bool { return n.members.hasAddr(addr) }

// MemberByAddr returns the current member whose socket address is addr.
func (n *Node) MemberByAddr(addr netip.AddrPort) (Member, bool) {
	return n.members.lookupAddr(addr)
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
	d.n.members.put(m)
	d.n.emit(EventJoin, m)
}

func (d eventDelegate) NotifyLeave(nd *memberlist.Node) {
	m := memberOf(nd)
	d.n.members.remove(m.Name)
	d.n.emit(EventLeave, m)
}

func (d eventDelegate) NotifyUpdate(nd *memberlist.Node) {
	m := memberOf(nd)
	d.n.members.put(m)
	d.n.emit(EventUpdate, m)
}

func (n *Node) emit(k EventKind, m Member) {
	select {
	case n.events <- Event{Kind: k, Member: m}:
	default:
		n.stats.eventsDropped.Add(1)
	}
}
