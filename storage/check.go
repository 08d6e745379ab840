package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// FullPath returns the file's path on disk (Root joined with Path).
func (f File) FullPath() string { return filepath.Join(f.Root, filepath.FromSlash(f.Path)) }

// Check re-examines f on disk before it is served: it reports true when the
// file still resolves inside its share root, is a regular file and has the
// catalog's size and mtime. A missing or changed file gives false and a nil
// error (the caller should rescan); other failures return an error. Safe
// for concurrent use; it does not touch the database.
func (s *Store) Check(f File) (bool, error) {
	info, err := statInRoot(f)
	if errors.Is(err, ErrChanged) || errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return matches(f, info), nil
}

// OpenFile opens f for serving and verifies, on the open descriptor, that
// it is still the file that was hashed (same size and mtime, inside its
// share root). It returns an error wrapping ErrChanged otherwise. The
// caller closes the file. Safe for concurrent use.
func (s *Store) OpenFile(f File) (*os.File, error) {
	checked, err := statInRoot(f)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", f.Path, err)
	}
	fh, err := os.OpenFile(f.FullPath(), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", f.Path, err)
	}
	// The path may have been swapped between the check and the open.
	info, err := fh.Stat()
	if err == nil && (!os.SameFile(checked, info) || !matches(f, info)) {
		err = ErrChanged
	}
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open %s: %w", f.Path, err)
	}
	return fh, nil
}

// statInRoot resolves f's path, refuses it (ErrChanged) if it now leaves
// the share root, and stats the target.
func statInRoot(f File) (fs.FileInfo, error) {
	root, err := filepath.EvalSymlinks(f.Root)
	if err != nil {
		return nil, err
	}
	target, err := filepath.EvalSymlinks(f.FullPath())
	if err != nil {
		return nil, err
	}
	if !within(root, target) || target == root {
		return nil, fmt.Errorf("%w: %s resolves outside its share", ErrChanged, f.Path)
	}
	return os.Stat(target)
}

func matches(f File, info fs.FileInfo) bool {
	return info.Mode().IsRegular() && info.Size() == f.Size && info.ModTime().UnixNano() == f.ModTime
}
