package transfer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/servent-p2p/servent/content"
)

// errReadOnlyFS is the platform's "read-only file system" error.
var errReadOnlyFS error = syscall.EROFS

// partial is the file a download is written into before it is renamed.
type partial struct {
	f    *os.File
	path string

	mu sync.Mutex // guards the Download's Verified bitmap while fetching
}

// markVerified sets chunk i's bit in dl.Verified.
func (p *partial) markVerified(dl *Download, i int) {
	p.mu.Lock()
	setBit(dl.Verified, i)
	p.mu.Unlock()
}

// isVerified reports chunk i's bit in dl.Verified.
func (p *partial) isVerified(dl *Download, i int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bitSet(dl.Verified, i)
}

// openPartial opens (or creates) dl's partial file at dl.Size bytes. A
// partial whose size is wrong is reset, and so is its verified bitmap; a
// new one has its disk space reserved (ErrDiskFull at once if it cannot
// fit). The chunks an earlier run marked verified are checked again from
// disk (they may not have reached it before a crash); a partial found
// without saved state has every chunk checked.
func openPartial(dl *Download) (*partial, error) {
	f, created, err := openPartialFile(dl.PartPath)
	if err != nil {
		if isNotWritable(err) {
			return nil, fmt.Errorf("%w: %s: %v", ErrReadOnly, filepath.Dir(dl.PartPath), err)
		}
		return nil, err
	}
	p := &partial{f: f, path: dl.PartPath}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat partial file: %w", err)
	}
	if created || st.Size() != dl.Size {
		clear(dl.Verified)
		if err := f.Truncate(dl.Size); err != nil {
			f.Close()
			return nil, p.writeErr(err, dl.Size)
		}
		if err := reserve(f, dl.Size); err != nil {
			// Nothing is verified yet: give back what was allocated.
			f.Close()
			os.Remove(dl.PartPath)
			if errors.Is(err, syscall.ENOSPC) {
				return nil, fmt.Errorf("%w: %s needs %d bytes, %s free in %s; nothing was fetched: free some space and rerun",
					ErrDiskFull, filepath.Base(dl.PartPath), dl.Size, freeBytes(filepath.Dir(dl.PartPath)), filepath.Dir(dl.PartPath))
			}
			return nil, p.writeErr(err, dl.Size)
		}
		return p, nil
	}
	all := countBits(dl.Verified, content.NumChunks(dl.Size)) == 0
	if err := p.recheck(dl, all); err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

// openPartialFile creates path, or opens the partial file already there.
// It never follows a symlink at path (O_NOFOLLOW where the platform has
// it) and refuses anything but a regular file with no other name, so a
// predictable partial name cannot be used to write somewhere else.
func openPartialFile(path string) (f *os.File, created bool, err error) {
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return nil, false, fmt.Errorf("%w: partial file %s is a %s, not a regular file; remove it and rerun", ErrBadRequest, path, st.Mode().Type())
	}
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|oNoFollow, 0o644)
	created = err == nil
	if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, os.O_RDWR|oNoFollow, 0)
	}
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, false, fmt.Errorf("%w: partial file %s is a symlink; remove it and rerun", ErrBadRequest, path)
		}
		return nil, false, fmt.Errorf("open partial file: %w", err)
	}
	st, err := f.Stat()
	switch {
	case err != nil:
		err = fmt.Errorf("stat partial file: %w", err)
	case !st.Mode().IsRegular():
		err = fmt.Errorf("%w: partial file %s is not a regular file; remove it and rerun", ErrBadRequest, path)
	case extraLinks(st):
		err = fmt.Errorf("%w: partial file %s has other names (hard links); remove it and rerun", ErrBadRequest, path)
	}
	if err != nil {
		f.Close()
		if created {
			os.Remove(path)
		}
		return nil, false, err
	}
	return f, created, nil
}

func (p *partial) close() { p.f.Close() }

// writeChunk writes one verified chunk; need reports the bytes still to
// be written, for the disk-full message.
func (p *partial) writeChunk(data []byte, off int64, dl *Download, need func() int64) error {
	if _, err := p.f.WriteAt(data, off); err != nil {
		return p.writeErr(err, need()+int64(len(data)))
	}
	startWriteback(p.f, off, int64(len(data)))
	return nil
}

// writeErr turns a write error into a clear one.
func (p *partial) writeErr(err error, need int64) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w writing %s: %s free, need %d bytes; partial kept, rerun to resume",
			ErrDiskFull, p.path, freeBytes(filepath.Dir(p.path)), need)
	case isNotWritable(err):
		return fmt.Errorf("%w: writing %s: %v; partial kept", ErrReadOnly, p.path, err)
	}
	return fmt.Errorf("write %s: %w", p.path, err)
}

// recheck reads chunks of the partial file back and checks them against
// the outboard: every chunk when all is set, else only those marked
// verified. A chunk that verifies is marked, one that does not is cleared.
func (p *partial) recheck(dl *Download, all bool) error {
	n := content.NumChunks(dl.Size)
	buf := make([]byte, content.ChunkSize)
	for i := range n {
		if !all && !bitSet(dl.Verified, i) {
			continue
		}
		off, n := content.ChunkSpan(i, dl.Size)
		data := buf[:n]
		if _, err := p.f.ReadAt(data, off); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s: %w", p.path, err)
		}
		if content.VerifyChunk(dl.Hash, dl.Outboard, i, data) {
			setBit(dl.Verified, i)
		} else {
			clearBit(dl.Verified, i)
		}
	}
	return nil
}

// sync makes the partial file durable before it is renamed.
func (p *partial) sync() error {
	if err := p.f.Sync(); err != nil {
		return p.writeErr(err, 0)
	}
	return nil
}

// place moves the verified partial file to dir/name, or to "name (1).ext",
// "name (2).ext", ... if that exists: an existing file is never
// overwritten. It syncs the directory and reports whether it renamed.
func (p *partial) place(dir, name string) (string, bool, error) {
	p.f.Close()
	const maxTries = 1000
	for i := range maxTries {
		target := filepath.Join(dir, candidate(name, i))
		err := os.Link(p.path, target) // fails if target exists: no overwrite race
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil { // no hard links here (FAT, some network file systems)
			if _, serr := os.Lstat(target); serr == nil {
				continue
			}
			if err := os.Rename(p.path, target); err != nil {
				return "", false, fmt.Errorf("rename %s: %w", p.path, err)
			}
		} else if err := os.Remove(p.path); err != nil {
			return "", false, fmt.Errorf("remove %s: %w", p.path, err)
		}
		return target, i > 0, syncDir(dir)
	}
	return "", false, fmt.Errorf("%s and %d numbered variants exist; partial kept in %s", name, maxTries-1, p.path)
}

// candidate returns name for i == 0, else "base (i).ext".
func candidate(name string, i int) string {
	if i == 0 {
		return name
	}
	ext := filepath.Ext(name)
	if ext == name || strings.HasPrefix(name, ".") && strings.Count(name, ".") == 1 {
		ext = "" // ".bashrc" has no extension
	}
	return fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(name, ext), i, ext)
}

// syncDir fsyncs a directory so a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
