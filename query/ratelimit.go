package query

import "slices"

// BurstSeconds is how many seconds of its rate a token bucket holds.
const BurstSeconds = 4

// Burst is the bucket size for rate queries per second: BurstSeconds of
// them, at least 1. The per-origin bucket (Config.QueryBurst, by default)
// and the per-link one (SetLinkLimit, as the daemon sizes it) both use it.
func Burst(rate float64) int { return max(1, int(BurstSeconds*rate)) }

// bucket is a token bucket driven by the caller's clock.
type bucket struct {
	tokens float64
	last   int64 // unix nanoseconds
}

// allow refills the bucket for the time since its last use (at rate tokens per
// second, capped at burst) and takes one token if there is one.
func (b *bucket) allow(now int64, rate float64, burst int) bool {
	if elapsed := now - b.last; elapsed > 0 {
		b.tokens = min(float64(burst), b.tokens+float64(elapsed)*rate/1e9)
	}
	b.last = max(b.last, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
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
