package transfer

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing a just-written range to
// disk without waiting, so the final fsync has little left to do.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE) // a hint: errors only lose the overlap
}
