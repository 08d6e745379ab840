package query

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
