package main

import "runtime/debug"

// daemonGCPercent is the garbage collector's target for `servent run` when
// GOGC is not set: a collection starts when the heap has grown by half of
// what was live after the last one, not by all of it (Go's default, 100),
// and the smallest heap goal is 2 MiB instead of 4. An idle servent's live
// heap is 2–5 MB, so this keeps about 2 MB less memory per process for a
// little more collector CPU (docs/BENCHMARKS.md, "Idle cost after the
// cuts"). It changes nothing else: GOGC, when set, is obeyed.
const daemonGCPercent = 50

// tuneGC sets daemonGCPercent unless gogc (the GOGC environment variable)
// is set.
func tuneGC(gogc string) {
	if gogc == "" {
		debug.SetGCPercent(daemonGCPercent)
	}
}
