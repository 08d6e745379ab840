package storage

import (
	"io/fs"
	"os"
	"path/filepath"
)

// ctxCheckEvery is how many directory entries are visited between two
// checks for cancellation.
const ctxCheckEvery = 256

var _ fs.WalkDirFunc = (&rootWalk{}).visit

// rootWalk walks one share root for a scanRun.
type rootWalk struct {
	run      *scanRun
	root     string // as stored in the catalog: absolute, clean
	resolved string // root with symlinks resolved; the tree actually walked
	known    map[string]known
	visited  int
}

// walkRoots walks every root in turn, queueing new and changed files for
// hashing and striking confirmed files off r.known. Roots that cannot be
// read are logged and contribute nothing, so their records are removed.
func (r *scanRun) walkRoots(roots []string) error {
	done := make(map[string]bool)
	for _, root := range roots {
		root = cleanAbs(root)
		if done[root] {
			continue
		}
		done[root] = true
		resolved, err := filepath.EvalSymlinks(root)
		if err != nil {
			r.skipped.Add(1)
			r.log.Warn("share root unreadable", "root", root, "err", err)
			continue
		}
		w := &rootWalk{run: r, root: root, resolved: resolved, known: r.known[root]}
		if err := filepath.WalkDir(resolved, w.visit); err != nil {
			return err
		}
		if len(w.known) == 0 {
			delete(r.known, root)
		}
	}
	return nil
}

func (w *rootWalk) visit(p string, d fs.DirEntry, err error) error {
	r := w.run
	if w.visited++; w.visited%ctxCheckEvery == 0 && r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	if err != nil {
		r.skipped.Add(1)
		r.log.Warn("unreadable entry", "path", p, "err", err)
		return nil
	}
	switch typ := d.Type(); {
	case d.IsDir():
		if w.excluded(p) {
			return fs.SkipDir
		}
		r.dirs = append(r.dirs, p)
	case typ.IsRegular():
		if w.excluded(p) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // vanished since the directory was read
		}
		return w.found(p, info)
	case typ&fs.ModeSymlink != 0:
		return w.symlink(p)
	default: // device, socket, FIFO, irregular
		r.skipped.Add(1)
		r.log.Debug("skipping non-regular file", "path", p, "type", typ.String())
	}
	return nil
}

// symlink indexes a link to a regular file whose target stays inside the
// share root and outside excluded directories; anything else is refused.
func (w *rootWalk) symlink(p string) error {
	r := w.run
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		r.skipped.Add(1)
		r.log.Debug("skipping dangling symlink", "path", p, "err", err)
		return nil
	}
	if !within(w.resolved, target) || w.excluded(target) {
		r.skipped.Add(1)
		r.log.Warn("refusing symlink that leaves the share", "path", p, "target", target)
		return nil
	}
	info, err := os.Stat(target)
	if err != nil || !info.Mode().IsRegular() {
		r.skipped.Add(1)
		r.log.Debug("skipping symlink to non-regular file", "path", p)
		return nil
	}
	return w.found(p, info)
}

// found records a regular file: unchanged ones are confirmed, others queued.
func (w *rootWalk) found(p string, info fs.FileInfo) error {
	r := w.run
	relOS, err := filepath.Rel(w.resolved, p)
	if err != nil {
		return nil
	}
	rel := filepath.ToSlash(relOS)
	r.seen.Add(1)
	k, ok := w.known[rel]
	delete(w.known, rel)
	if ok && k.size == info.Size() && k.mtime == info.ModTime().UnixNano() {
		r.stats.Unchanged++
		return nil
	}
	r.queued.Add(1)
	select {
	case r.jobs <- hashJob{root: w.root, rel: rel, full: p}:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

func (w *rootWalk) excluded(p string) bool {
	for _, e := range w.run.excludes {
		if within(e, p) {
			return true
		}
	}
	return false
}
