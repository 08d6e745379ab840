// Package proc runs real `servent run` processes for tests and benchmarks:
// start one with its log going to a file, wait until it is ready, stop it
// gracefully or kill it. `servent bench --live` (package sim) and the
// outage drill (test/drill) both start their servents through it.
//
// A Process is in its own process group and, on Linux, is killed by the
// kernel when the process that started it dies, so a crashed test leaves
// no servent behind.
//
// Imports: the standard library only; it runs the servent binary, it does
// not link servent's packages.
package proc
