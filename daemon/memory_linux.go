package daemon

import "golang.org/x/sys/unix"

// totalMemory is the machine's physical memory in bytes (0 when unknown).
// It is stable for the life of the process, so the published capacity is
// too: a capacity that drifted would reshuffle the election.
func totalMemory() uint64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}
