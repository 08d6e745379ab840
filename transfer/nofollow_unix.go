//go:build unix

package transfer

import (
	"io/fs"
	"syscall"
)

// oNoFollow makes opening a symlink fail instead of following it.
const oNoFollow = syscall.O_NOFOLLOW

// extraLinks reports whether the file has other names (hard links): a
// partial file must be ours alone, or writing it would change another file.
func extraLinks(st fs.FileInfo) bool {
	s, ok := st.Sys().(*syscall.Stat_t)
	return ok && uint64(s.Nlink) > 1
}
