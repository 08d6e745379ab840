package transfer

import (
	"strconv"
	"syscall"
)

// freeBytes describes the space available to us in dir's file system.
func freeBytes(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown bytes"
	}
	return strconv.FormatUint(st.Bavail*uint64(st.Bsize), 10) + " bytes"
}
