package sim

import (
	"slices"
	"time"
)

// aggregate sums per-query statistics over a run.
type aggregate struct {
	msgs, hitMsgs, bytes, hitBytes int
	reached, dups                  int
	anyHit, found, copies          int
	hops                           int
	latency                        int64
}

func (a *aggregate) add(st *queryStats, copies int) {
	a.msgs += st.msgs
	a.hitMsgs += st.hitMsgs
	a.bytes += st.bytes
	a.hitBytes += st.hitBytes
	a.reached += st.reached
	a.dups += st.dups
	a.found += len(st.found)
	a.copies += copies
	if st.gotHit {
		a.anyHit++
		a.hops += st.firstHops
		a.latency += st.firstAt
	}
}

func (a *aggregate) row(queries int, handled []uint32) Row {
	q := float64(queries)
	r := Row{
		MsgsPerQuery:     float64(a.msgs) / q,
		HitsPerQuery:     float64(a.hitMsgs) / q,
		BytesPerQuery:    float64(a.bytes) / q,
		HitBytesPerQuery: float64(a.hitBytes) / q,
		Reached:          float64(a.reached) / q,
		Dups:             float64(a.dups) / q,
		RecallAny:        float64(a.anyHit) / q,
		RecallCopies:     float64(a.found) / float64(max(1, a.copies)),
	}
	if a.anyHit > 0 {
		r.FirstHitHops = float64(a.hops) / float64(a.anyHit)
		r.FirstHitLatency = time.Duration(a.latency / int64(a.anyHit))
	}
	load := slices.Clone(handled)
	slices.Sort(load)
	r.BusiestMax = float64(load[len(load)-1]) / q
	r.BusiestP99 = float64(load[(len(load)*99)/100]) / q
	return r
}
