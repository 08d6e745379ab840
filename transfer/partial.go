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

	"github.com/zeebo/blake3"

	"github.com/servent-p2p/servent/storage"
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
// fit); a partial found without saved state has its chunks checked from
// disk.
func openPartial(dl *Download) (*partial, error) {
	st, statErr := os.Stat(dl.PartPath)
	f, err := os.OpenFile(dl.PartPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		if isNotWritable(err) {
			return nil, fmt.Errorf("%w: %s: %v", ErrReadOnly, filepath.Dir(dl.PartPath), err)
		}
		return nil, fmt.Errorf("open partial file: %w", err)
	}
	p := &partial{f: f, path: dl.PartPath}
	switch {
	case statErr != nil || st.Size() != dl.Size:
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
	case countBits(dl.Verified, storage.NumChunks(dl.Size)) == 0:
		if _, err := p.rescan(dl); err != nil {
			f.Close()
			return nil, err
		}
	}
	return p, nil
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

// rescan checks every chunk of the partial file against the outboard,
// sets the bits of those that verify, clears the others, and returns how
// many did not verify.
func (p *partial) rescan(dl *Download) (int, error) {
	n := storage.NumChunks(dl.Size)
	buf := make([]byte, storage.ChunkSize)
	bad := 0
	for i := range n {
		off := int64(i) * storage.ChunkSize
		data := buf[:min(storage.ChunkSize, dl.Size-off)]
		if _, err := p.f.ReadAt(data, off); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("read %s: %w", p.path, err)
		}
		if storage.VerifyChunk(dl.Hash, dl.Outboard, i, data) {
			setBit(dl.Verified, i)
		} else {
			clearBit(dl.Verified, i)
			bad++
		}
	}
	return bad, nil
}

// verifyWhole syncs the partial file and checks its whole-file hash: sum
// if the rehasher computed it, else it re-reads the file. If the hash is
// wrong it rescans the chunks and returns how many must be fetched again.
func (p *partial) verifyWhole(dl *Download, sum *storage.Hash) (int, error) {
	if err := p.f.Sync(); err != nil {
		return 0, p.writeErr(err, 0)
	}
	if sum == nil {
		h := blake3.New()
		if _, err := io.CopyBuffer(h, io.NewSectionReader(p.f, 0, dl.Size), make([]byte, storage.ChunkSize)); err != nil {
			return 0, fmt.Errorf("re-read %s: %w", p.path, err)
		}
		sum = new(storage.Hash)
		*sum = storage.Hash(h.Sum(nil))
	}
	if *sum == dl.Hash {
		return 0, nil
	}
	bad, err := p.rescan(dl)
	if err == nil && bad == 0 {
		err = fmt.Errorf("%w: %s", ErrVerify, p.path)
	}
	return bad, err
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
