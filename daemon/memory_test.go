package daemon

import "testing"

// TestTotalMemory checks that the platform's way of asking works: every
// supported system has some memory, and 0 would drop the capacity score to
// the CPU count alone.
func TestTotalMemory(t *testing.T) {
	m := totalMemory()
	if m < 64<<20 {
		t.Fatalf("totalMemory() = %d bytes, want the machine's memory (at least 64 MiB)", m)
	}
	t.Logf("total memory: %d MiB", m>>20)
}
