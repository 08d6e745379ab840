package daemon

import (
	"context"
	"sync"
	"time"
)

// Index update rate: a leaf's updates cost the entries they make the
// ultrapeer process (those sent, and those held that a delta's rebuild
// copies) plus indexUpdateCost each (planning the admission, swapping);
// a leaf may spend indexBurst at once (a 150,000-file library registers,
// then re-registers once, without waiting) and indexRate per second after
// that: at most 10 updates a second.
const (
	indexRate       = 10_000
	indexBurst      = 400_000
	indexUpdateCost = 1_000
)

// indexLimiter spaces out each leaf's index updates. A leaf whose bucket is
// in debt waits before its next frame is read (QUIC flow control then
// holds the leaf back), so an honest leaf is slowed, never refused.
// Buckets are kept by leaf name, so a reconnect does not refill one.
// Safe for concurrent use.
type indexLimiter struct {
	mu          sync.Mutex
	rate, burst float64
	buckets     map[string]*debtBucket
}

// debtBucket is a token bucket whose level may go negative: one update
// costs what it costs, and the next waits until the debt is paid.
type debtBucket struct {
	tokens float64
	last   time.Time
}

func newIndexLimiter(rate, burst float64) *indexLimiter {
	return &indexLimiter{rate: rate, burst: burst, buckets: make(map[string]*debtBucket)}
}

// set changes the rate and burst, and forgets every bucket.
func (l *indexLimiter) set(rate, burst float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rate, l.burst = rate, burst
	clear(l.buckets)
}

// delay charges cost to leaf's bucket at now if it is not in debt and
// returns 0, or returns how long to wait before asking again. Buckets
// that are full again are forgotten.
func (l *indexLimiter) delay(now time.Time, leaf string, cost int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, b := range l.buckets {
		if id != leaf && b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, id)
		}
	}
	b := l.buckets[leaf]
	if b == nil {
		b = &debtBucket{tokens: l.burst, last: now}
		l.buckets[leaf] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 0 {
		return max(time.Millisecond, time.Duration(-b.tokens/l.rate*float64(time.Second)))
	}
	b.tokens -= float64(cost)
	return 0
}

// wait blocks until leaf's bucket is out of debt, then charges cost.
func (l *indexLimiter) wait(ctx context.Context, leaf string, cost int) error {
	for {
		d := l.delay(time.Now(), leaf, cost)
		if d == 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
