package transfer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

var (
	// errChanged: the file on disk differs from its catalog entry.
	errChanged = errors.New("changed on disk")
	// errGone: the file is no longer on disk.
	errGone = errors.New("gone from disk")
	// errOutside: the path resolves outside its share root.
	errOutside = errors.New("resolves outside its share")
)

// openShared opens a catalog entry's file for reading after checking that
// it resolves inside its share root, is a regular file, and still has the
// catalog's size and modification time.
func openShared(f File) (*os.File, error) {
	p := filepath.FromSlash(f.Path)
	if !filepath.IsAbs(p) {
		p = filepath.Join(f.Root, p)
	}
	root, err := filepath.EvalSymlinks(f.Root)
	if err != nil {
		return nil, fmt.Errorf("share root %s: %w", f.Root, err)
	}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", p, errGone)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", p, err)
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return nil, fmt.Errorf("%s -> %s: %w", p, real, errOutside)
	}
	file, err := os.OpenFile(real, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", real, err)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("stat %s: %w", real, err)
	}
	if !st.Mode().IsRegular() {
		file.Close()
		return nil, fmt.Errorf("%s is not a regular file: %w", real, errOutside)
	}
	if st.Size() != f.Size || st.ModTime().UnixNano() != f.ModTime {
		file.Close()
		return nil, fmt.Errorf("%s: size %d mtime %d, catalog has %d and %d: %w", real, st.Size(), st.ModTime().UnixNano(), f.Size, f.ModTime, errChanged)
	}
	return file, nil
}
