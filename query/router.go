package query

import (
	"slices"
	"time"

	"github.com/servent-p2p/servent/role"
)

// Index answers queries locally: for an ultrapeer its leaves and its own
// shares, for a flood node (or a leaf, which never receives queries) its own
// shares. It applies the package matching rule ((*Query).Matches). Each
// returned QueryHit describes one servent holding the files — for a leaf's
// files, the leaf's address, QUIC port, fingerprint, node name and servent
// ID, not the answering ultrapeer's. Returned hits are complete payloads; the
// Router wraps them in descriptors (GUID of the query, TTL hops+1, hops 0)
// and splits them to fit datagrams (SplitHits), skipping any hit that cannot
// be split. The Router does not keep or modify them. Match is called
// synchronously from Handle and Originate.
type Index interface {
	Match(q *Query) []QueryHit
}

// Outbound is one descriptor to send to one peer. D may be shared between
// several Outbounds: read-only.
type Outbound struct {
	To PeerID
	D  *Descriptor
}

// Result is what the Router wants done after an event.
type Result struct {
	// Send lists the descriptors to send.
	Send []Outbound
	// Delivered lists hit descriptors for queries this node originated (the
	// header carries the query GUID and the hops the hit travelled). Empty
	// answer marks (hits without results) are not delivered.
	Delivered []*Descriptor
	// Answered lists the nodes whose whole answer to a query this node
	// originated with Query.WantAnswered has now arrived (every part of it;
	// each node once per query). A search can end when every node it
	// expects has answered.
	Answered []Answered
	// Done lists the queries this node originated whose dynamic query
	// (DynamicConfig) ended: its own, or the one its ultrapeer ran for it
	// (a hit with QueryHit.Done). No more hits will be asked for.
	Done []GUID
	// Drop is why the event's descriptor was dropped, DropNone otherwise.
	Drop DropReason
}

// MaxAnswering is the largest number of answering nodes (ultrapeers, or
// flood nodes) for which a search asks for answer marks
// (Query.WantAnswered): each costs one more hit descriptor per query when
// it has no match, which a small network does not notice.
const MaxAnswering = 64

// Answered says that node Node has answered the query GUID completely.
type Answered struct {
	GUID GUID
	Node PeerID
}

// Router is the routing core of one node. It is a synchronous state machine:
// no goroutines, no clock reads, no I/O. It is not safe for concurrent use;
// the caller serialises calls.
type Router struct {
	cfg        Config
	idx        Index
	role       role.Role
	neighbours []PeerID
	ultrapeers []PeerID
	leaves     []PeerID
	member     func(PeerID) bool
	tables     map[PeerID]*Table
	seen       dupCache
	buckets    map[PeerID]bucket // per origin
	links      map[PeerID]bucket // per neighbour, forwarded queries
	linkRate   float64
	linkBurst  int
	counters   Counters
	dyn        []*dynQuery // running dynamic queries, oldest first
	degrees    map[PeerID]int
	meshSize   int
}

// NewRouter returns a router for cfg answering from idx (nil: answers nothing).
// It starts as a leaf with no peers; call SetTopology.
func NewRouter(cfg Config, idx Index) *Router {
	def := DefaultConfig(cfg.Self)
	if cfg.MaxTTL == 0 {
		cfg.MaxTTL = def.MaxTTL
	}
	if cfg.DefaultTTL == 0 || cfg.DefaultTTL > cfg.MaxTTL {
		cfg.DefaultTTL = cfg.MaxTTL
	}
	if cfg.DupCacheSize <= 0 {
		cfg.DupCacheSize = def.DupCacheSize
	}
	if cfg.DupCacheAge <= 0 {
		cfg.DupCacheAge = def.DupCacheAge
	}
	if cfg.QueryBurst <= 0 {
		cfg.QueryBurst = Burst(cfg.QueryRate)
	}
	cfg.Dynamic.defaults()
	return &Router{cfg: cfg, idx: idx, seen: newDupCache(cfg.DupCacheSize, cfg.DupCacheAge)}
}

// SetTopology sets this node's role and peers. neighbours are the ultrapeer
// mesh neighbours of an ultrapeer, or the flood neighbours in Flood mode;
// ultrapeers are the ultrapeers a leaf is attached to; leaves are an
// ultrapeer's attached leaves. The slices are copied. Rate-limit state of
// peers no longer listed is forgotten. QRP tables are kept (only the
// current neighbours' are consulted): a neighbour sends its table once per
// change, so a table that arrived while the topology was settling must
// survive it; the caller forgets a table with SetNeighbourTable(p, nil).
func (r *Router) SetTopology(self role.Role, neighbours, ultrapeers, leaves []PeerID) {
	r.role = self
	r.neighbours = slices.Clone(neighbours)
	r.ultrapeers = slices.Clone(ultrapeers)
	r.leaves = slices.Clone(leaves)
	for p := range r.buckets {
		if !r.known(p) {
			delete(r.buckets, p)
		}
	}
	for p := range r.links {
		if !slices.Contains(r.neighbours, p) {
			delete(r.links, p)
		}
	}
}

// smartLeaf reports whether the node acts as a leaf: in smart mode, every
// role but role.Ultrapeer (a router before its first SetTopology too).
func (r *Router) smartLeaf() bool { return r.cfg.Mode == Smart && r.role != role.Ultrapeer }

func (r *Router) known(p PeerID) bool {
	return slices.Contains(r.neighbours, p) || slices.Contains(r.leaves, p) || slices.Contains(r.ultrapeers, p)
}

// SetLinkLimit sets the token bucket of each neighbour link for the
// queries it forwards on behalf of others (hops above 0, not from a leaf):
// rate queries per second, burst at most. Size it from the network's
// expected load: every origin's queries may cross a mesh link once, so
// QueryRate times the members bounds what a correct neighbour forwards.
// A rate of 0 (the initial state) disables the link limit.
func (r *Router) SetLinkLimit(rate float64, burst int) {
	r.linkRate, r.linkBurst = rate, max(1, burst)
}

// SetMember installs the membership check: descriptors from non-members are
// dropped, and nothing is sent to non-members. nil accepts everyone.
func (r *Router) SetMember(member func(PeerID) bool) { r.member = member }

// SetNeighbourTable records the QRP table received from ultrapeer neighbour
// p (nil forgets it). The Router keeps the pointer and only reads it, so
// callers may share one Table between routers; replace it rather than
// mutating it.
func (r *Router) SetNeighbourTable(p PeerID, t *Table) {
	if t == nil {
		delete(r.tables, p)
		return
	}
	if r.tables == nil {
		r.tables = make(map[PeerID]*Table)
	}
	r.tables[p] = t
}

// NeighbourTable returns the QRP table last recorded for p (nil: none).
// The table is shared: read it only.
func (r *Router) NeighbourTable(p PeerID) *Table { return r.tables[p] }

// CountMalformed counts a datagram the caller could not decode.
func (r *Router) CountMalformed() { r.counters.Malformed++ }

// Counters returns a snapshot of the counters.
func (r *Router) Counters() Counters { return r.counters }

// SeenLen returns the number of query GUIDs currently remembered.
func (r *Router) SeenLen() int { return r.seen.len() }

func (r *Router) isMember(p PeerID) bool { return r.member == nil || r.member(p) }

func (r *Router) typeCounters(t PayloadType) *TypeCounters {
	if t == TypeQueryHit {
		return &r.counters.QueryHit
	}
	return &r.counters.Query
}

func (r *Router) drop(tc *TypeCounters, res Result, why DropReason) Result {
	tc.Dropped.add(why)
	res.Drop = why
	return res
}

// Originate starts a search with the caller-chosen GUID (NewGUID) and TTL (0:
// DefaultTTL; capped at MaxTTL). A smart-mode leaf sends it to its ultrapeers
// only and does not answer itself; an ultrapeer or a flood node answers from
// its Index (the hits are returned as Delivered) and floods it. With nobody
// to send to, Drop is DropNoRoute (local hits are still delivered).
func (r *Router) Originate(now time.Time, guid GUID, q *Query, ttl uint8) Result {
	if ttl == 0 {
		ttl = r.cfg.DefaultTTL
	}
	ttl = min(ttl, r.cfg.MaxTTL)
	e := seenEntry{at: now.UnixNano(), origin: true}
	if q.WantAnswered {
		e.answers = make(map[string]uint16)
	}
	r.seen.insert(guid, e)
	d := &Descriptor{Header: Header{GUID: guid, Type: TypeQuery, TTL: ttl}, Query: q}
	r.counters.Query.Originated++
	var res Result
	if r.smartLeaf() {
		res.Send = r.leafTargets(d)
		r.counters.Query.Sent += uint64(len(res.Send))
	} else {
		local := r.answer(d)
		for _, hd := range local {
			r.counters.QueryHit.Delivered++
			r.deliver(&res, e, hd)
		}
		if !r.startDynamic(now.UnixNano(), d, "", local, &res) {
			res.Send = r.sendAll(res.Send, r.floodTargets(d), "", d)
			r.counters.Query.Sent += uint64(len(res.Send))
		}
	}
	if len(res.Send) == 0 {
		return r.drop(&r.counters.Query, res, DropNoRoute)
	}
	return res
}

// Handle processes descriptor d received from peer from at time now and
// returns what to send, what to deliver, and why d was dropped if it was.
func (r *Router) Handle(now time.Time, from PeerID, d *Descriptor) Result {
	if !d.consistent() {
		r.counters.Malformed++
		return Result{Drop: DropMalformed}
	}
	tc := r.typeCounters(d.Type)
	tc.Received++
	if !r.isMember(from) {
		return r.drop(tc, Result{}, DropNonMember)
	}
	if d.TTL == 0 || int(d.TTL)+int(d.Hops) > int(r.cfg.MaxTTL) {
		return r.drop(tc, Result{}, DropTTL)
	}
	if d.Type == TypeQuery {
		return r.handleQuery(now.UnixNano(), from, d)
	}
	return r.handleHit(now.UnixNano(), from, d)
}
