package overlay

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time this process has used, user and system.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestPassphraseGuessCost: every node broadcasts beacon MACs under keys
// derived from the drill passphrase, so one beacon lets anyone test guesses
// offline. Each guess must cost at least half a second of CPU (CPU time,
// not wall time: a busy machine does not make it pass or fail).
func TestPassphraseGuessCost(t *testing.T) {
	const guess = "correct horse battery staple (a guess)"
	derivedKeys.Delete(guess) // derived afresh on every run (-count)
	c0 := processCPU(t)
	k, err := deriveDrillKeys(guess)
	if err != nil || !k.set {
		t.Fatalf("derive: %v", err)
	}
	cost := processCPU(t) - c0
	t.Logf("one passphrase guess: %v of CPU (Argon2id t=%d, %d MiB, %d lanes)", cost, argonTime, argonMemory>>10, argonThreads)
	if cost < 500*time.Millisecond {
		t.Errorf("a guess costs %v of CPU, want >= 500ms", cost)
	}
	again, _ := deriveDrillKeys(guess)
	if again.mlKey == nil || string(again.mlKey) != string(k.mlKey) || again.streamTag != k.streamTag {
		t.Fatal("derivation is not deterministic")
	}
	other, _ := deriveDrillKeys(guess + ".")
	if string(other.mlKey) == string(k.mlKey) || string(other.beacon) == string(k.beacon) {
		t.Fatal("different passphrases give the same keys")
	}
}
