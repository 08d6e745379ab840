package main

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	tuneGC("200") // GOGC set: left alone
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set: GC percent %d, want 100", got)
	}
	tuneGC("")
	if got := debug.SetGCPercent(100); got != daemonGCPercent {
		t.Errorf("without GOGC: GC percent %d, want %d", got, daemonGCPercent)
	}
}
