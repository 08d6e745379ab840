package query

import (
	"slices"
	"time"

	"github.com/servent-p2p/servent/role"
)

// PeerID names a member: its unique node name.
type PeerID string

// Mode is the network-wide routing strategy.
type Mode uint8

// Routing modes. Smart is the default.
const (
	// Smart (Gnutella 0.6): leaves send to their ultrapeers only; ultrapeers
	// answer for themselves and their leaves and flood among ultrapeers.
	Smart Mode = iota
	// Flood (Gnutella 0.4): every node answers from its own shares and floods
	// to its flood neighbours.
	Flood
)

// Config configures a Router. Zero fields take the defaults of DefaultConfig,
// except booleans.
type Config struct {
	// Self is this node's member name.
	Self PeerID
	// Mode is the routing strategy (default Smart).
	Mode Mode
	// MaxTTL caps TTL+hops (default 7); above it a descriptor is invalid.
	MaxTTL uint8
	// DefaultTTL is used by Originate when it is given TTL 0 (default MaxTTL).
	DefaultTTL uint8
	// DupCacheSize bounds the query GUIDs remembered for duplicate suppression
	// and reverse-path routing (default 4096).
	DupCacheSize int
	// DupCacheAge is how long a query GUID is remembered (default 2 minutes);
	// hits arriving later are dropped as unknown.
	DupCacheAge time.Duration
	// LastHopQRP: in smart mode, a query forwarded with TTL 1 goes only to
	// ultrapeer neighbours whose QRP table matches it (or that sent none).
	LastHopQRP bool
	// QueryRate and QueryBurst: the per-origin token bucket (queries per
	// second, bucket size) for the queries a peer issues itself: those
	// from a leaf (whose queries enter the network here) and those with
	// hops 0. QueryRate 0 disables the limit; QueryBurst 0 means
	// Burst(QueryRate). Queries a neighbour forwards for others are
	// limited per link instead (SetLinkLimit).
	QueryRate  float64
	QueryBurst int
	// Dynamic configures dynamic querying (off unless Dynamic.On).
	Dynamic DynamicConfig
}

// DefaultConfig returns the defaults: smart mode, MaxTTL 7, DefaultTTL 7, a
// 4096-entry 2-minute duplicate cache, last-hop QRP on, 20 queries/s per peer
// with a burst of Burst(20) = 80 (configs/servent.yaml's query_rate).
func DefaultConfig(self PeerID) Config {
	return Config{
		Self:         self,
		Mode:         Smart,
		MaxTTL:       7,
		DefaultTTL:   7,
		DupCacheSize: 4096,
		DupCacheAge:  2 * time.Minute,
		LastHopQRP:   true,
		QueryRate:    20,
		QueryBurst:   Burst(20),
		Dynamic:      DefaultDynamicConfig(),
	}
}

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

func (r *Router) handleQuery(now int64, from PeerID, d *Descriptor) Result {
	tc := &r.counters.Query
	if r.smartLeaf() {
		return r.drop(tc, Result{}, DropUnexpected)
	}
	if reason := r.allow(now, from, d); reason != DropNone {
		return r.drop(tc, Result{}, reason)
	}
	if e, dup := r.seen.lookup(d.GUID, now); dup {
		if !r.deepens(e, from, d) {
			return r.drop(tc, Result{}, DropDuplicate)
		}
		e.ttl = d.TTL
		r.seen.update(d.GUID, e)
		fwd := &Descriptor{Header: Header{GUID: d.GUID, Type: TypeQuery, TTL: d.TTL - 1, Hops: d.Hops + 1}, Query: d.Query}
		res := Result{Send: r.sendAll(nil, r.floodTargets(fwd), from, fwd)}
		tc.Forwarded += uint64(len(res.Send))
		tc.Sent += uint64(len(res.Send))
		return res
	}
	r.seen.insert(d.GUID, seenEntry{from: from, at: now, ttl: d.TTL})
	var res Result
	local := r.answer(d)
	for _, hd := range local {
		res.Send = append(res.Send, Outbound{To: from, D: hd})
		r.counters.QueryHit.Sent++
	}
	switch {
	case d.TTL <= 1:
	case d.Hops == 0 && slices.Contains(r.leaves, from) && r.startDynamic(now, d, from, local, &res):
	default:
		n := len(res.Send)
		fwd := &Descriptor{Header: Header{GUID: d.GUID, Type: TypeQuery, TTL: d.TTL - 1, Hops: d.Hops + 1}, Query: d.Query}
		res.Send = r.sendAll(res.Send, r.floodTargets(fwd), from, fwd)
		tc.Forwarded += uint64(len(res.Send) - n)
		tc.Sent += uint64(len(res.Send) - n)
	}
	return res
}

func (r *Router) handleHit(now int64, from PeerID, d *Descriptor) Result {
	tc := &r.counters.QueryHit
	e, ok := r.seen.lookup(d.GUID, now)
	if !ok {
		return r.drop(tc, Result{}, DropUnknownGUID)
	}
	if !r.hitFrom(from, e) {
		return r.drop(tc, Result{}, DropUnexpected)
	}
	res := r.routeHit(e, d)
	r.dynamicHit(d, &res)
	return res
}

// routeHit delivers hit d (of query entry e) to this node's search, or
// forwards it one hop back along the query's path.
func (r *Router) routeHit(e seenEntry, d *Descriptor) Result {
	tc := &r.counters.QueryHit
	if e.origin {
		tc.Delivered++
		var res Result
		r.deliver(&res, e, d)
		return res
	}
	if d.TTL <= 1 {
		return r.drop(tc, Result{}, DropTTL)
	}
	if !r.isMember(e.from) {
		return r.drop(tc, Result{}, DropNonMember)
	}
	fwd := &Descriptor{Header: Header{GUID: d.GUID, Type: TypeQueryHit, TTL: d.TTL - 1, Hops: d.Hops + 1}, Hit: d.Hit}
	tc.Forwarded++
	tc.Sent++
	return Result{Send: []Outbound{{To: e.from, D: fwd}}}
}

// deepens reports whether query d from from, whose GUID this node has
// seen (entry e), is a dynamic query sent again with a higher TTL along
// the same path (LimeWire's probe extension): it is forwarded with that
// TTL, not answered again. Only with dynamic querying on; a flood never
// sends a node the same query twice from the same neighbour.
func (r *Router) deepens(e seenEntry, from PeerID, d *Descriptor) bool {
	return r.cfg.Dynamic.On && !e.origin && from == e.from && d.TTL > e.ttl && d.TTL > 1
}

// allow takes a token for query d from p: from p's origin bucket when p
// issued d itself (p is a leaf, or d has hops 0), from p's link bucket
// when p forwards it for others. It returns the drop reason, or DropNone.
func (r *Router) allow(now int64, p PeerID, d *Descriptor) DropReason {
	if d.Hops == 0 || slices.Contains(r.leaves, p) {
		if r.cfg.QueryRate > 0 && !take(&r.buckets, p, now, r.cfg.QueryRate, r.cfg.QueryBurst) {
			return DropRateLimited
		}
		return DropNone
	}
	if r.linkRate > 0 && !take(&r.links, p, now, r.linkRate, r.linkBurst) {
		return DropLinkRateLimited
	}
	return DropNone
}

// take takes a token from p's bucket in *m (made full on first use).
func take(m *map[PeerID]bucket, p PeerID, now int64, rate float64, burst int) bool {
	if *m == nil {
		*m = make(map[PeerID]bucket)
	}
	b, ok := (*m)[p]
	if !ok {
		b = bucket{tokens: float64(burst), last: now}
	}
	allowed := b.allow(now, rate, burst)
	(*m)[p] = b
	return allowed
}

// deliver adds hit descriptor d of an originated query (seen entry e) to
// res: d itself when it has results, and its node to res.Answered when d
// completes that node's marked answer.
func (r *Router) deliver(res *Result, e seenEntry, d *Descriptor) {
	if len(d.Hit.Results) > 0 {
		res.Delivered = append(res.Delivered, d)
	}
	if d.Hit.Done {
		res.Done = append(res.Done, d.GUID)
	}
	a := d.Hit.Answered
	if a == nil || e.answers == nil {
		return
	}
	n, ok := e.answers[a.Node]
	if ok && n >= a.Parts {
		return // complete already (a duplicate or a lying count)
	}
	n++
	e.answers[a.Node] = n
	if n == a.Parts {
		res.Answered = append(res.Answered, Answered{GUID: d.GUID, Node: PeerID(a.Node)})
	}
}

// answer asks the Index and wraps its hits in descriptors addressed back
// along the query's path. Hits that cannot be encoded are skipped. When the
// query asks for it (WantAnswered), every descriptor carries this node's
// answer mark, and a node with no match answers with one empty hit.
func (r *Router) answer(q *Descriptor) []*Descriptor {
	var hits []QueryHit
	if r.idx != nil {
		hits = r.idx.Match(q.Query)
	}
	if len(hits) == 0 && !q.Query.WantAnswered {
		return nil
	}
	if len(hits) > 0 {
		r.counters.Query.Delivered++
	}
	ttl := min(q.Hops+1, r.cfg.MaxTTL)
	var parts []*QueryHit
	for i := range hits {
		ps, err := SplitHits(&hits[i], MaxDescriptor)
		if err != nil {
			continue
		}
		parts = append(parts, ps...)
	}
	if q.Query.WantAnswered {
		parts = markAnswered(parts, string(r.cfg.Self))
	}
	out := make([]*Descriptor, len(parts))
	for i, p := range parts {
		out[i] = &Descriptor{Header: Header{GUID: q.GUID, Type: TypeQueryHit, TTL: ttl}, Hit: p}
		r.counters.QueryHit.Originated++
	}
	return out
}

// markAnswered returns copies of parts carrying the answer mark of node
// (an empty hit when there are none), at most 65535 of them.
func markAnswered(parts []*QueryHit, node string) []*QueryHit {
	if len(parts) == 0 {
		parts = []*QueryHit{{}}
	}
	parts = parts[:min(len(parts), 1<<16-1)]
	mark := &Answer{Node: node, Parts: uint16(len(parts))}
	out := make([]*QueryHit, len(parts))
	for i, p := range parts {
		c := *p
		c.Answered = mark
		out[i] = &c
	}
	return out
}

// floodTargets returns the peers a query may be flooded to: the ultrapeer
// mesh (smart) or flood neighbours (flood). The caller excludes the sender.
// In smart mode with LastHopQRP, a query sent with TTL 1 goes only to
// neighbours whose table matches it or that have sent no table, unless it
// asks for answer marks: then every neighbour gets it and answers itself
// (a table received before the neighbour's index changed would otherwise
// end the search without its files).
func (r *Router) floodTargets(d *Descriptor) []PeerID {
	if r.cfg.Mode != Smart || !r.cfg.LastHopQRP || d.TTL != 1 || len(r.tables) == 0 || d.Query.WantAnswered {
		return r.neighbours
	}
	words := d.Query.Words()
	out := make([]PeerID, 0, len(r.neighbours))
	for _, p := range r.neighbours {
		if t, ok := r.tables[p]; !ok || t.MatchQuery(d.Query, words) {
			out = append(out, p)
		}
	}
	return out
}

// leafTargets returns where a smart-mode leaf sends its query d: to every
// ultrapeer it is attached to; with dynamic querying (and no answer marks
// asked for) to one of them, chosen by the GUID (a search sent again
// under a new GUID may go to another), which runs the dynamic query.
// Three dynamic queries for one search would triple its cost, and an
// ultrapeer that had seen the GUID from the leaf would drop the dynamic
// query's copy as a duplicate instead of passing it on.
func (r *Router) leafTargets(d *Descriptor) []Outbound {
	out := r.sendAll(nil, r.ultrapeers, "", d)
	if !r.cfg.Dynamic.On || d.Query.WantAnswered || len(out) < 2 {
		return out
	}
	i := int(d.GUID[len(d.GUID)-1]) % len(out)
	return out[i : i+1]
}

// sendAll appends one Outbound per member peer in to, except skip.
func (r *Router) sendAll(out []Outbound, to []PeerID, skip PeerID, d *Descriptor) []Outbound {
	if out == nil {
		out = make([]Outbound, 0, len(to))
	}
	for _, p := range to {
		if p == skip || p == r.cfg.Self || !r.isMember(p) {
			continue
		}
		out = append(out, Outbound{To: p, D: d})
	}
	return out
}
