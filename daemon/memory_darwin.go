package daemon

import "golang.org/x/sys/unix"

// totalMemory is the machine's physical memory in bytes (0 when unknown):
// sysctl hw.memsize. See memory_linux.go for why it must be stable.
func totalMemory() uint64 {
	n, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return 0
	}
	return n
}
