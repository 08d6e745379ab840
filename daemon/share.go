package daemon

import (
	"io"
	"os"
	"path/filepath"
)

// sharedDownloadsDir is the folder (inside the data dir, always shared)
// where `servent get --share` links finished files.
func sharedDownloadsDir(dataDir string) string { return filepath.Join(dataDir, "shared") }

// shareDownload links a finished download into the always-shared folder
// (a copy when a link is impossible), then asks for a rescan.
func (f *fetcher) shareDownload(path string) error {
	if err := os.MkdirAll(f.shareDir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(f.shareDir, filepath.Base(path))
	if _, err := os.Lstat(dst); err == nil {
		return nil // already shared under that name
	}
	if err := os.Link(path, dst); err != nil {
		if err := copyFile(path, dst); err != nil {
			return err
		}
	}
	f.rescan()
	return nil
}

// copyFile copies src to a new file dst (never overwriting), synced.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}
