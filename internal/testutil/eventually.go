package testutil

import (
	"testing"
	"time"
)

// Poll intervals of Eventually: the first poll is quick, later ones back
// off, since a condition may be costly (a whole cluster's state, an HTTP
// search).
const (
	firstPoll = 10 * time.Millisecond
	maxPoll   = 200 * time.Millisecond
)

// Eventually calls cond until it returns true, or fails t (naming what it
// waited for) once timeout has passed. It polls after 10 ms, then at
// doubling intervals up to 200 ms. It blocks; call it from the test's
// goroutine.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := firstPoll
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(wait)
		wait = min(2*wait, maxPoll)
	}
}
