package safefile

import (
	"io"
	"io/fs"
	"os"
)

// CopyNew copies src to a new file dst with permissions perm, syncs it and
// closes it. It never overwrites: an existing dst is an error (fs.ErrExist).
// When the copy fails, dst is removed, so a half-written file is never left
// under the name.
func CopyNew(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
}
