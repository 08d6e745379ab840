package query

import (
	"slices"
	"time"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/role"
)

// DynamicConfig configures dynamic querying (LimeWire's QueryHandler,
// gtk-gnutella's dq.c): an ultrapeer that receives a leaf's query, or
// originates one, does not flood it to every mesh neighbour at once. It
// probes a few neighbours with a low TTL, counts the results that come
// back for the query's GUID, and widens (the next neighbour, with a TTL
// sized from the results per host reached so far and the neighbour's
// degree) only while fewer than Results have arrived; once every
// neighbour was queried it deepens, querying a neighbour again with a
// higher TTL (LimeWire's probe extension, Router.deepens: with a mesh
// degree of 8 a neighbour is too precious to spend on a TTL-2 probe). It
// stops when enough results came or every neighbour was queried with the
// highest TTL the query allows. Zero fields take the defaults of
// DefaultDynamicConfig.
type DynamicConfig struct {
	// On enables dynamic querying (smart mode, ultrapeers). Queries that
	// ask for answer marks (Query.WantAnswered) are flooded as before: on
	// a network that small the whole mesh answers, and the marks tell the
	// origin when it has.
	On bool
	// Results is how many distinct results (answering node, file) end a
	// dynamic query (default 20).
	Results int
	// HopWait is how long a step waits for hits per TTL of the query it
	// sent (a TTL-t query waits t × HopWait) before widening (default
	// 100 ms).
	HopWait time.Duration
	// Probe is how many neighbours the first step queries (default 3),
	// with TTL 2 (or less when the query allows less).
	Probe int
	// MaxAge ends a dynamic query whatever its state (default 30 s).
	MaxAge time.Duration
	// MaxActive bounds the dynamic queries running at once (default 256);
	// beyond it queries are flooded.
	MaxActive int
}

// DefaultDynamicConfig returns the dynamic-querying defaults, off.
func DefaultDynamicConfig() DynamicConfig {
	return DynamicConfig{Results: 20, HopWait: 100 * time.Millisecond, Probe: 3, MaxAge: 30 * time.Second, MaxActive: 256}
}

func (c *DynamicConfig) defaults() {
	d := DefaultDynamicConfig()
	if c.Results <= 0 {
		c.Results = d.Results
	}
	if c.HopWait <= 0 {
		c.HopWait = d.HopWait
	}
	if c.Probe <= 0 {
		c.Probe = d.Probe
	}
	if c.MaxAge <= 0 {
		c.MaxAge = d.MaxAge
	}
	if c.MaxActive <= 0 {
		c.MaxActive = d.MaxActive
	}
}

// probeTTL is the TTL of the first step's queries.
const probeTTL = 2

// horizonMargin: a dynamic query has tried the whole mesh when its
// estimated horizon reaches this many times the ultrapeers in the mesh
// (SetMeshSize); the estimate counts a tree, and a mesh has cycles.
const horizonMargin = 2

// resultKey names one distinct result: a node's file.
type resultKey struct {
	node  string
	hash  content.Hash
	index uint32
}

// dynQuery is one running dynamic query.
type dynQuery struct {
	guid    GUID
	q       *Query
	words   []string
	hops    uint8            // hops of the descriptors it sends
	maxTTL  uint8            // highest TTL it may send
	from    PeerID           // who handed it the query ("" for its own)
	sent    map[PeerID]uint8 // neighbours queried, with the TTL of the last query
	results map[resultKey]struct{}
	horizon float64 // ultrapeers theoretically reached, this one included
	start   int64
	next    int64 // when the next step is due (unix ns)
	probed  bool
}

// HostsReached is the number of ultrapeers a query sent with TTL ttl to a
// neighbour of degree degree reaches if the mesh beyond it were a tree of
// that degree: Σ (degree−1)^i for i < ttl (LimeWire's and gtk-gnutella's
// horizon estimate).
func HostsReached(degree int, ttl uint8) float64 {
	b := float64(max(degree-1, 0))
	sum, p := 0.0, 1.0
	for range ttl {
		sum += p
		p *= b
	}
	return sum
}

// startDynamic starts a dynamic query for query descriptor d received
// from from (or originated here, from ""), whose local answer was local.
// It reports false, doing nothing, when d must be flooded instead. The
// first step's descriptors are appended to res.Send.
func (r *Router) startDynamic(now int64, d *Descriptor, from PeerID, local []*Descriptor, res *Result) bool {
	c := &r.cfg.Dynamic
	if !c.On || r.cfg.Mode != Smart || r.role != role.Ultrapeer || d.Query.WantAnswered || len(r.dyn) >= c.MaxActive {
		return false
	}
	hops, maxTTL := d.Hops+1, d.TTL-1
	if from == "" {
		hops, maxTTL = 0, d.TTL
	}
	if maxTTL < 1 {
		return false
	}
	dq := &dynQuery{
		guid: d.GUID, q: d.Query, words: d.Query.Words(), hops: hops, maxTTL: maxTTL, from: from,
		sent: make(map[PeerID]uint8), results: make(map[resultKey]struct{}), horizon: 1, start: now, next: now,
	}
	for _, hd := range local {
		dq.count(hd.Hit)
	}
	r.dyn = append(r.dyn, dq)
	r.counters.Dynamic.Started++
	r.stepDynamic(now, dq, res)
	return true
}

// count records the results of hit h.
func (dq *dynQuery) count(h *QueryHit) {
	for _, fr := range h.Results {
		dq.results[resultKey{node: h.Node, hash: fr.Hash, index: fr.Index}] = struct{}{}
	}
}

// dynamicHit counts hit descriptor d for the dynamic query of its GUID, if
// one runs, and ends that query when it has enough (appending the end
// notice to res).
func (r *Router) dynamicHit(d *Descriptor, res *Result) {
	i := r.dynIndex(d.GUID)
	if i < 0 {
		return
	}
	dq := r.dyn[i]
	dq.count(d.Hit)
	if len(dq.results) >= r.cfg.Dynamic.Results {
		r.endDynamic(i, &r.counters.Dynamic.Satisfied, res)
	}
}

func (r *Router) dynIndex(g GUID) int {
	return slices.IndexFunc(r.dyn, func(dq *dynQuery) bool { return dq.guid == g })
}

// endDynamic ends dynamic query i, counting why, and tells its origin:
// this node's own search (res.Done), or the leaf, with an empty hit
// marked Done (TTL 1: the leaf is one hop away).
func (r *Router) endDynamic(i int, why *uint64, res *Result) {
	dq := r.dyn[i]
	*why++
	r.dyn = slices.Delete(r.dyn, i, i+1)
	if dq.from == "" {
		res.Done = append(res.Done, dq.guid)
		return
	}
	if !r.isMember(dq.from) {
		return
	}
	notice := &Descriptor{Header: Header{GUID: dq.guid, Type: TypeQueryHit, TTL: 1}, Hit: &QueryHit{Node: string(r.cfg.Self), Done: true}}
	res.Send = append(res.Send, Outbound{To: dq.from, D: notice})
	r.counters.QueryHit.Originated++
	r.counters.QueryHit.Sent++
}

// Tick runs the steps of the dynamic queries that are due at now: each
// sends the query to more neighbours, or ends. Call it at NextTick (the
// simulator) or periodically (the daemon); calling it early does nothing.
func (r *Router) Tick(now time.Time) Result {
	t := now.UnixNano()
	var res Result
	for i := 0; i < len(r.dyn); {
		dq := r.dyn[i]
		if dq.next > t {
			i++
			continue
		}
		if r.stepDynamic(t, dq, &res) {
			i++
		}
	}
	return res
}

// NextTick returns when the earliest dynamic query step is due; false
// when no dynamic query runs.
func (r *Router) NextTick() (time.Time, bool) {
	if len(r.dyn) == 0 {
		return time.Time{}, false
	}
	next := r.dyn[0].next
	for _, dq := range r.dyn[1:] {
		next = min(next, dq.next)
	}
	return time.Unix(0, next), true
}

// DynamicActive returns the number of dynamic queries running.
func (r *Router) DynamicActive() int { return len(r.dyn) }

// stepDynamic runs one step of dq at now, appending what it sends to
// res.Send. It reports whether dq still runs (false: it ended and was
// removed).
func (r *Router) stepDynamic(now int64, dq *dynQuery, res *Result) bool {
	c := &r.cfg.Dynamic
	i := slices.Index(r.dyn, dq)
	switch {
	case len(dq.results) >= c.Results:
		r.endDynamic(i, &r.counters.Dynamic.Satisfied, res)
		return false
	case now-dq.start >= int64(c.MaxAge):
		r.endDynamic(i, &r.counters.Dynamic.Expired, res)
		return false
	case r.meshSize > 0 && dq.horizon >= horizonMargin*float64(r.meshSize):
		r.endDynamic(i, &r.counters.Dynamic.Exhausted, res)
		return false
	}
	cands := r.dynCandidates(dq)
	if len(cands) == 0 {
		r.endDynamic(i, &r.counters.Dynamic.Exhausted, res)
		return false
	}
	var ttl uint8
	if !dq.probed {
		dq.probed = true
		ttl = min(probeTTL, dq.maxTTL)
		for _, p := range cands[:min(c.Probe, len(cands))] {
			r.sendDynamic(dq, p, ttl, res)
		}
	} else {
		p := cands[0]
		ttl = dq.selectTTL(r.degree(p), len(cands), c.Results)
		if ttl == 1 && dq.maxTTL > 1 && !r.qrpMatch(p, dq) {
			ttl = 2 // a TTL-1 query to a neighbour without a match finds nothing
		}
		ttl = max(ttl, dq.sent[p]+1) // a neighbour queried before is only deepened
		r.sendDynamic(dq, p, ttl, res)
	}
	dq.next = now + int64(ttl)*int64(c.HopWait)
	return true
}

// sendDynamic sends dq to neighbour p with TTL ttl. A neighbour queried
// before with a lower TTL passes the query on again with the higher one
// (Router.deepens), so the horizon grows by the difference.
func (r *Router) sendDynamic(dq *dynQuery, p PeerID, ttl uint8, res *Result) {
	d := &Descriptor{Header: Header{GUID: dq.guid, Type: TypeQuery, TTL: ttl, Hops: dq.hops}, Query: dq.q}
	res.Send = append(res.Send, Outbound{To: p, D: d})
	r.counters.Query.Sent++
	if dq.from != "" {
		r.counters.Query.Forwarded++
	}
	dq.horizon += HostsReached(r.degree(p), ttl) - HostsReached(r.degree(p), dq.sent[p])
	dq.sent[p] = ttl
}

// dynCandidates returns the neighbours dq may still query: those not
// queried yet, the ones whose QRP table matches the query first
// (gtk-gnutella's preference), then those queried with less than the
// highest TTL, lowest TTL first; each group in neighbour order.
func (r *Router) dynCandidates(dq *dynQuery) []PeerID {
	var match, rest, deeper []PeerID
	for _, p := range r.neighbours {
		if p == dq.from || p == r.cfg.Self || !r.isMember(p) {
			continue
		}
		switch ttl, ok := dq.sent[p]; {
		case ok && ttl < dq.maxTTL:
			deeper = append(deeper, p)
		case ok:
		case r.qrpMatch(p, dq):
			match = append(match, p)
		default:
			rest = append(rest, p)
		}
	}
	slices.SortStableFunc(deeper, func(a, b PeerID) int { return int(dq.sent[a]) - int(dq.sent[b]) })
	return append(append(match, rest...), deeper...)
}

// qrpMatch reports whether p's QRP table matches dq's query; true when p
// sent no table.
func (r *Router) qrpMatch(p PeerID, dq *dynQuery) bool {
	t, ok := r.tables[p]
	return !ok || t.MatchQuery(dq.q, dq.words)
}

// selectTTL picks the TTL of the query to the next neighbour, of degree
// degree, with remaining neighbours left to query: the ultrapeers still
// to reach, estimated from the results per ultrapeer reached so far,
// spread over the remaining neighbours; the smallest TTL whose horizon
// covers that share, at most maxTTL. With no result yet it is maxTTL.
func (dq *dynQuery) selectTTL(degree, remaining, want int) uint8 {
	perHost := float64(len(dq.results)) / dq.horizon
	if perHost == 0 {
		return dq.maxTTL
	}
	share := float64(want-len(dq.results)) / perHost / float64(remaining)
	for ttl := uint8(1); ttl < dq.maxTTL; ttl++ {
		if HostsReached(degree, ttl) >= share {
			return ttl
		}
	}
	return dq.maxTTL
}

// degree is the mesh degree of neighbour p (SetNeighbourDegrees), or
// this node's own when unknown.
func (r *Router) degree(p PeerID) int {
	if d, ok := r.degrees[p]; ok {
		return d
	}
	return len(r.neighbours)
}

// SetMeshSize records the number of ultrapeers in the mesh (0: unknown).
// A dynamic query ends, the whole mesh tried, when its estimated horizon
// reaches twice that.
func (r *Router) SetMeshSize(n int) { r.meshSize = n }

// SetNeighbourDegrees records the mesh degree of each neighbour (the
// topology planner knows every ultrapeer's), which dynamic querying uses
// to estimate the ultrapeers a query reaches through it. Neighbours not
// listed are assumed to have this node's degree. The map is copied.
func (r *Router) SetNeighbourDegrees(deg map[PeerID]int) {
	r.degrees = make(map[PeerID]int, len(deg))
	for p, d := range deg {
		r.degrees[p] = d
	}
}
