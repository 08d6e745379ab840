package transfer

import (
	"errors"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// freeBytes describes the space available to us in dir's file system.
func freeBytes(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown bytes"
	}
	return strconv.FormatUint(st.Bavail*uint64(st.Bsize), 10) + " bytes"
}

// reserve allocates size bytes of disk for f up front, so a download that
// cannot fit fails before it fetches anything. File systems without
// fallocate are left to allocate as chunks are written.
func reserve(f *os.File, size int64) error {
	if size == 0 {
		return nil
	}
	err := unix.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return nil
	}
	return err
}

// startWriteback asks the kernel to start writing a just-written range to
// disk without waiting, so the final fsync has little left to do.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE) // a hint: errors only lose the overlap
}
