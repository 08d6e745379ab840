package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/servent-p2p/servent/content"
)

// ErrChanged is returned when a file on disk no longer matches (or kept
// changing while it was read).
var ErrChanged = errors.New("file changed")

// hashAttempts is how many times a file that changes while it is hashed is
// read before it is skipped for this scan.
const hashAttempts = 3

// progressEvery is the minimum interval between two Progress calls.
const progressEvery = 250 * time.Millisecond

// ScanOptions tunes Scan and Watch.
type ScanOptions struct {
	// Exclude lists absolute directories never indexed (the data dir).
	Exclude []string
	// Workers bounds concurrent hashing; 0 means runtime.NumCPU().
	Workers int
	// Progress, if set, is called from a separate goroutine at most every
	// 250 ms while the scan runs, and once more with Done set at the end.
	Progress func(ScanProgress)
	// Logger receives warnings about skipped files; nil means the store's.
	Logger *slog.Logger
}

// ScanProgress is a snapshot of a running scan.
type ScanProgress struct {
	Seen   int   // regular files found so far
	Queued int   // new or changed files found so far, to be hashed
	Hashed int   // files hashed so far
	Bytes  int64 // bytes hashed so far
	Done   bool  // the final call
}

// ScanStats summarises a scan.
type ScanStats struct {
	Files     int   // files in the catalog for the roots after the scan
	Hashed    int   // new or changed files hashed and stored
	Unchanged int   // files whose size and mtime matched: not read
	Removed   int   // catalog entries dropped (gone, unreadable, unshared)
	Skipped   int   // entries refused or unreadable (see doc.go)
	Bytes     int64 // bytes hashed
}

// Changed reports whether the scan modified the catalog.
func (st ScanStats) Changed() bool { return st.Hashed > 0 || st.Removed > 0 }

// known is what the catalog holds about one file.
type known struct{ size, mtime int64 }

// hashJob is one file to hash.
type hashJob struct {
	root, rel, full string
}

// scanRun is the state of one Scan call.
type scanRun struct {
	s        *Store
	ctx      context.Context
	log      *slog.Logger
	excludes []string
	workers  int                         // hashing goroutines
	known    map[string]map[string]known // root -> path -> record
	dirs     []string                    // directories walked (for Watch)
	jobs     chan hashJob
	results  chan change
	stats    ScanStats
	seen     atomic.Int64
	queued   atomic.Int64
	hashed   atomic.Int64
	bytes    atomic.Int64
	skipped  atomic.Int64
	removed  atomic.Int64
}

// Scan brings the catalog in line with the files under roots (absolute
// share directories): new and changed files are hashed by a pool of
// opts.Workers goroutines, unchanged ones (same size and mtime) are not
// read, and records of vanished files, unreadable files and roots no longer
// listed are removed. Unreadable entries are skipped with a warning. It
// blocks until done; concurrent scans run one after the other. On
// cancellation it returns ctx.Err() after storing what it already hashed,
// without removing anything.
func (s *Store) Scan(ctx context.Context, roots []string, opts ScanOptions) (ScanStats, error) {
	st, _, err := s.scan(ctx, roots, opts)
	return st, err
}

func (s *Store) scan(ctx context.Context, roots []string, opts ScanOptions) (ScanStats, []string, error) {
	if s.readOnly {
		return ScanStats{}, nil, ErrReadOnly
	}
	s.scanMu.Lock()
	defer s.scanMu.Unlock()
	if err := ctx.Err(); err != nil {
		return ScanStats{}, nil, err
	}
	r, err := s.newScanRun(ctx, opts)
	if err != nil {
		return ScanStats{}, nil, err
	}
	if err := r.run(roots, opts.Progress); err != nil {
		return r.stats, nil, err
	}
	if err := r.removeUnseen(); err != nil {
		return r.stats, nil, err
	}
	r.stats.Removed = int(r.removed.Load())
	r.stats.Files = r.stats.Unchanged + r.stats.Hashed
	return r.stats, r.dirs, nil
}

// newScanRun prepares a scan: the logger, the excluded directories (as
// given and resolved), what the catalog holds and the worker channels.
func (s *Store) newScanRun(ctx context.Context, opts ScanOptions) (*scanRun, error) {
	r := &scanRun{s: s, ctx: ctx, log: opts.Logger, workers: opts.Workers}
	if r.log == nil {
		r.log = s.log
	}
	for _, e := range opts.Exclude {
		r.excludes = append(r.excludes, cleanAbs(e))
		if res, err := filepath.EvalSymlinks(e); err == nil {
			r.excludes = append(r.excludes, res)
		}
	}
	var err error
	if r.known, err = s.loadKnown(); err != nil {
		return nil, err
	}
	if r.workers <= 0 {
		r.workers = runtime.NumCPU()
	}
	r.jobs = make(chan hashJob, 4*r.workers)
	r.results = make(chan change, 4*r.workers)
	return r, nil
}

// run walks the roots while the workers hash what changed and the
// collector stores it; it returns the first write or walk error, or the
// context's error if the scan was cancelled (some files then went unhashed).
func (r *scanRun) run(roots []string, progress func(ScanProgress)) error {
	stopProgress := r.startProgress(progress)
	var wg sync.WaitGroup
	for range r.workers {
		wg.Go(r.hashWorker)
	}
	var writeErr error
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		writeErr = r.collect()
	}()

	walkErr := r.walkRoots(roots)
	close(r.jobs)
	wg.Wait()
	close(r.results)
	<-collected
	stopProgress()

	r.stats.Hashed = int(r.hashed.Load())
	r.stats.Bytes = r.bytes.Load()
	r.stats.Skipped = int(r.skipped.Load())
	r.stats.Removed = int(r.removed.Load())
	switch {
	case writeErr != nil:
		return writeErr
	case walkErr != nil:
		return walkErr
	}
	return r.ctx.Err()
}

// loadKnown reads size and mtime of every catalog file.
func (s *Store) loadKnown() (map[string]map[string]known, error) {
	m := make(map[string]map[string]known)
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 256, Prefix: []byte{kindFile}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			root, path, err := splitRootPath(item.Key()[1:])
			if err != nil {
				return err
			}
			var f File
			if err := item.Value(func(v []byte) error { return decodeFileValue(v, &f) }); err != nil {
				return err
			}
			if m[root] == nil {
				m[root] = make(map[string]known)
			}
			m[root][path] = known{f.Size, f.ModTime}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	return m, nil
}

// collect turns worker results into batched catalog writes.
func (r *scanRun) collect() error {
	var batch []change
	var err error
	flush := func() {
		var removed int
		removed, err = r.s.applyChanges(batch)
		r.removed.Add(int64(removed))
		batch = batch[:0]
	}
	for c := range r.results {
		if err != nil {
			continue // drain so workers can finish
		}
		if batch = append(batch, c); len(batch) >= maxChangesPerTxn {
			flush()
		}
	}
	if err == nil && len(batch) > 0 {
		flush()
	}
	return err
}

// removeUnseen deletes every record the walk did not confirm.
func (r *scanRun) removeUnseen() error {
	var dels []change
	for root, files := range r.known {
		for path := range files {
			dels = append(dels, change{file: File{Root: root, Path: path}, del: true})
		}
	}
	removed, err := r.s.applyChanges(dels)
	r.removed.Add(int64(removed))
	return err
}

func (r *scanRun) startProgress(fn func(ScanProgress)) (stop func()) {
	if fn == nil {
		return func() {}
	}
	snapshot := func(done bool) ScanProgress {
		return ScanProgress{Seen: int(r.seen.Load()), Queued: int(r.queued.Load()),
			Hashed: int(r.hashed.Load()), Bytes: r.bytes.Load(), Done: done}
	}
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fn(snapshot(false))
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
		fn(snapshot(true))
	}
}

// hashWorker hashes queued files until the job channel closes. A file that
// cannot be hashed is reported as a deletion so a stale record goes away.
func (r *scanRun) hashWorker() {
	for j := range r.jobs {
		if r.ctx.Err() != nil {
			continue
		}
		f, ob, err := r.hashStable(j.full)
		if err != nil && r.ctx.Err() != nil {
			continue // cancelled mid-file: not the file's fault, keep its record
		}
		if err != nil {
			r.skipped.Add(1)
			r.log.Warn("skipping file", "path", j.full, "err", err)
			r.results <- change{file: File{Root: j.root, Path: j.rel}, del: true}
			continue
		}
		f.Root, f.Path = j.root, j.rel
		r.hashed.Add(1)
		r.results <- change{file: f, outboard: ob}
	}
}

// hashStable hashes the file at full, retrying when its size or mtime
// change while it is read. O_NONBLOCK keeps a FIFO swapped in since the
// walk from blocking the open.
func (r *scanRun) hashStable(full string) (File, []byte, error) {
	for range hashAttempts {
		fh, err := os.OpenFile(full, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return File{}, nil, err
		}
		f, ob, err := r.hashOpen(fh, full)
		fh.Close()
		if !errors.Is(err, ErrChanged) {
			return f, ob, err
		}
	}
	return File{}, nil, fmt.Errorf("%w while hashing %d times", ErrChanged, hashAttempts)
}

func (r *scanRun) hashOpen(fh *os.File, full string) (File, []byte, error) {
	before, err := fh.Stat()
	if err != nil {
		return File{}, nil, err
	}
	if !before.Mode().IsRegular() {
		return File{}, nil, fmt.Errorf("not a regular file: %s", before.Mode().Type())
	}
	if hook := r.s.hashHook; hook != nil {
		hook(full)
	}
	h, ob, hashErr := content.HashReader(&countingReader{ctx: r.ctx, r: fh, n: &r.bytes}, before.Size())
	after, err := fh.Stat()
	if err != nil {
		return File{}, nil, err
	}
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return File{}, nil, ErrChanged
	}
	if hashErr != nil {
		return File{}, nil, hashErr
	}
	return File{Size: before.Size(), ModTime: before.ModTime().UnixNano(), Hash: h}, ob, nil
}

// countingReader adds the bytes read to a shared counter for progress and
// stops reading once ctx is done, so cancelling a scan does not wait for a
// large file to be hashed to the end.
type countingReader struct {
	ctx context.Context
	r   io.Reader
	n   *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// cleanAbs returns p made absolute and cleaned (p itself if Abs fails).
func cleanAbs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// within reports whether p is dir or inside it (both clean and absolute).
func within(dir, p string) bool {
	if p == dir {
		return true
	}
	if dir != "" && dir[len(dir)-1] == filepath.Separator {
		return len(p) > len(dir) && p[:len(dir)] == dir
	}
	return len(p) > len(dir) && p[:len(dir)] == dir && p[len(dir)] == filepath.Separator
}
