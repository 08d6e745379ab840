package daemon

import (
	"testing"
	"time"
)

func TestIndexLimiter(t *testing.T) {
	l := newIndexLimiter(100, 300)
	now := time.Unix(1000, 0)
	for i, tc := range []struct {
		after time.Duration
		leaf  string
		cost  int
		wait  time.Duration
	}{
		{0, "a", 250, 0},                     // 300 -> 50
		{0, "a", 200, 0},                     // 50 -> -150: one update may go into debt
		{0, "a", 1, 1500 * time.Millisecond}, // in debt: wait until it is paid
		{0, "b", 300, 0},                     // another leaf has its own bucket
		{time.Second, "a", 1, 500 * time.Millisecond},
		{500 * time.Millisecond, "a", 1, 0},
	} {
		now = now.Add(tc.after)
		if got := l.delay(now, tc.leaf, tc.cost); got != tc.wait {
			t.Fatalf("step %d: delay %v, want %v", i, got, tc.wait)
		}
	}
	// A bucket full again is forgotten; a reconnect does not refill one
	// in debt.
	now = now.Add(time.Minute)
	l.delay(now, "c", 1000)
	if _, ok := l.buckets["b"]; ok {
		t.Error("a full bucket was kept")
	}
	if d := l.delay(now, "c", 1); d == 0 {
		t.Error("a bucket in debt was refilled")
	}
}
