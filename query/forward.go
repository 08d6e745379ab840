package query

import "slices"

// handleQuery admits query d from from (role, rate limits, duplicates),
// answers it from the Index back to from, and floods it on, or starts a
// dynamic query for a leaf's query.
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

// handleHit routes hit d from from back along its query's path, if the
// query is known and went to from.
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
