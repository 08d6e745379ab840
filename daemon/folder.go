package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/internal/names"
	"github.com/servent-p2p/servent/internal/safefile"
	"github.com/servent-p2p/servent/transfer"
)

// folderWorkers is how many files of a folder download at once
// (BenchmarkFolderDownload compares settings).
var folderWorkers = 4

// folderFile is one file of a folder download.
type folderFile struct {
	rel  string // safe, slash-separated, below the folder's root
	size int64
	hash content.Hash
	dup  int // index of the first file with the same content, or -1
}

// planFolder turns a listing into the files to create below the folder's
// root (Listing.Layout, which the phone page's .zip of a folder uses too),
// marking files whose content an earlier one has. Files left out are
// returned, for display.
func planFolder(l api.Listing) (plan []folderFile, skipped []string) {
	files, skipped := l.Layout()
	first := map[content.Hash]int{}
	for _, f := range files {
		ff := folderFile{rel: f.Rel, size: f.Size, hash: f.Hash, dup: -1}
		if i, ok := first[f.Hash]; ok {
			ff.dup = i
		} else {
			first[f.Hash] = len(plan)
		}
		plan = append(plan, ff)
	}
	return plan, skipped
}

// kept reports whether path already holds the file f (an earlier run
// saved it): same size, same content hash. Only files of the right size
// are read.
func kept(path string, f folderFile) bool {
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() != f.size {
		return false
	}
	h, _, _, err := content.HashFile(path)
	return err == nil && h == f.hash
}

// folderProgress adds up a folder download's progress for one bar. Its
// methods are safe for concurrent use; report is called under its lock.
type folderProgress struct {
	mu       sync.Mutex
	report   func(api.Progress)
	total    int64
	done     int64         // bytes of finished files
	inflight map[int]int64 // verified bytes of files in progress
	files    int
	finished int
}

func (p *folderProgress) update(i int, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight[i] = bytes
	p.send()
}

func (p *folderProgress) finish(i int, size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inflight, i)
	p.done += size
	p.finished++
	p.send()
}

func (p *folderProgress) send() {
	b := p.done
	for _, n := range p.inflight {
		b += n
	}
	p.report(api.Progress{Bytes: b, Total: p.total, Sources: 1, Files: p.files, FilesDone: p.finished})
}

// finishedFiles is how many files are done.
func (p *folderProgress) finishedFiles() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.finished
}

// getFolder downloads the folder req names from its peer into
// req.OutDir/<name>, with its structure, every file verified by the
// single-file path (download). Files already there from an earlier run
// are kept, partial ones resume. Blocks until done, an error, or ctx ends.
func (f *fetcher) getFolder(ctx context.Context, req api.FolderRequest, progress func(api.Progress)) (*api.GetDone, error) {
	started := time.Now()
	l, err := f.net.browse(ctx, req.Peer, req.Folder)
	if err != nil {
		return nil, err
	}
	if len(l.Files) == 0 {
		return nil, fmt.Errorf("%s shares no files under %q (see `servent browse %s`)", names.Display(l.Peer.Name), names.Display(l.Folder), names.Display(l.Peer.Name))
	}
	plan, skipped := planFolder(l)
	root := filepath.Join(req.OutDir, l.RootName())
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	run := &folderRun{f: f, peer: l.Peer, root: root, plan: plan,
		fp: &folderProgress{report: progress, inflight: map[int]int64{}, files: len(plan)}}
	for _, ff := range plan {
		run.fp.total += ff.size
	}
	run.done = &api.GetDone{Path: root, Size: run.fp.total, Files: len(plan), Skipped: skipped, Sources: map[string]int64{}}
	if err := run.all(ctx); err != nil {
		return nil, fmt.Errorf("%w; %d of %d files are saved in %s: run the same command again to resume", err, run.fp.finishedFiles(), len(plan), root)
	}
	run.done.Resumed = run.done.Resumed || run.done.Kept > 0
	run.done.Seconds = time.Since(started).Seconds()
	return run.done, nil
}

// folderRun is one folder download.
type folderRun struct {
	f    *fetcher
	peer api.Source
	root string
	plan []folderFile
	fp   *folderProgress

	mu   sync.Mutex // guards done's counters
	done *api.GetDone
}

// all fetches the unique contents first (folderWorkers in parallel), then
// the copies of duplicates. It returns the first error, or ctx's.
func (r *folderRun) all(ctx context.Context) error {
	var unique, dups []int
	for i, f := range r.plan {
		if f.dup < 0 {
			unique = append(unique, i)
		} else {
			dups = append(dups, i)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, batch := range [][]int{unique, dups} {
		if err := r.batch(ctx, cancel, batch); err != nil {
			return err
		}
	}
	return nil
}

// batch fetches the files batch lists with folderWorkers workers; the
// first error cancels the others.
func (r *folderRun) batch(ctx context.Context, cancel func(), batch []int) error {
	var mu sync.Mutex
	var firstErr error
	work := make(chan int)
	var wg sync.WaitGroup
	for range folderWorkers {
		wg.Go(func() {
			for i := range work {
				if err := r.fetch(ctx, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
				}
			}
		})
	}
feed:
	for _, i := range batch {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// fetch saves file i: kept from an earlier run, copied from the same
// content saved already, or downloaded from the peer.
func (r *folderRun) fetch(ctx context.Context, i int) error {
	f := r.plan[i]
	dst := filepath.Join(r.root, filepath.FromSlash(f.rel))
	if kept(dst, f) {
		r.mu.Lock()
		r.done.Kept++
		r.mu.Unlock()
		r.fp.finish(i, f.size)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if f.dup >= 0 { // same content as an earlier file: copied once that one is done
		if err := safefile.CopyNew(filepath.Join(r.root, filepath.FromSlash(r.plan[f.dup].rel)), dst, 0o644); err != nil {
			return fmt.Errorf("%s: %w", names.Display(f.rel), err)
		}
		r.fp.finish(i, f.size)
		return nil
	}
	res, err := r.f.download(ctx, api.GetRequest{
		Hash: f.hash.String(), Name: filepath.Base(dst), OutDir: filepath.Dir(dst), Sources: []api.Source{r.peer},
	}, func(p transfer.Progress) { r.fp.update(i, p.Done) })
	if err != nil {
		return fmt.Errorf("%s: %w", names.Display(f.rel), err)
	}
	r.record(res)
	r.fp.finish(i, f.size)
	return nil
}

// record adds a downloaded file's sources, liars and flags to the folder's.
func (r *folderRun) record(res transfer.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done.Renamed = r.done.Renamed || res.Renamed
	r.done.Resumed = r.done.Resumed || res.ChunksResumed > 0
	r.done.Liars = append(r.done.Liars, res.Liars...)
	for _, s := range res.Sources {
		if s.Bytes > 0 {
			r.done.Sources[s.Name] += s.Bytes
		}
	}
}
