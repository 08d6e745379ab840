package query

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
