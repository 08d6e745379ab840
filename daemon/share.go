package daemon

import (
	"os"
	"path/filepath"

	"github.com/servent-p2p/servent/internal/safefile"
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
		if err := safefile.CopyNew(path, dst, 0o644); err != nil {
			return err
		}
	}
	f.rescan()
	return nil
}
