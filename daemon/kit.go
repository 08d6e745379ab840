package daemon

import (
	"os"
	"path/filepath"
	"slices"

	"github.com/servent-p2p/servent/kit"
)

// KitDir is DATA_DIR/kit: a drill kit copied there is offered without the
// kit key, and `servent run` places its own binary there when no kit
// offers one for its platform.
func KitDir(dataDir string) string { return filepath.Join(dataDir, "kit") }

// loadKit reads the kit folders this node offers (the kit key's and
// DATA_DIR/kit when it exists): their binaries are scanned into the
// catalog like any share, so peers fetch them by content hash, and the
// phone page links the one for each visitor's computer. A binary that does
// not match its kit's SHA256SUMS stops the start: it is never offered.
func (d *Daemon) loadKit() error {
	dirs := []string{absPath(KitDir(d.cfg.Data))}
	if st, err := os.Stat(dirs[0]); err != nil || !st.IsDir() {
		dirs = nil
	}
	if d.cfg.Kit != "" && !slices.Contains(dirs, absPath(d.cfg.Kit)) {
		dirs = append(dirs, d.cfg.Kit)
	}
	for _, dir := range dirs {
		bins, err := kit.ReadFolder(dir)
		if err != nil {
			return err
		}
		for _, b := range bins {
			d.log.Info("offering servent", "platform", b.Target.String(), "file", filepath.Join(dir, b.Name), "sha256", b.SHA256)
		}
		d.kit = append(d.kit, bins...)
	}
	d.kitDirs = dirs
	return nil
}

// absPath is p made absolute, or p when that fails.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
