//go:build !linux && !darwin && !windows

package daemon

// totalMemory is 0 (unknown) where servent has no way to ask: the capacity
// then rests on the CPU count alone.
func totalMemory() uint64 { return 0 }
