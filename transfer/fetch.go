package transfer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/servent-p2p/servent/content"
)

// fetchAll fetches every chunk not yet verified, from every live source
// at once, and returns how many chunks it verified and wrote.
func (d *Downloader) fetchAll(ctx context.Context, req Request, dl *Download, p *partial, set *sourceSet) (int, error) {
	n := content.NumChunks(dl.Size)
	if dl.Size == 0 { // one empty chunk: nothing to fetch
		if !content.VerifyChunk(dl.Hash, dl.Outboard, 0, nil) {
			return 0, fmt.Errorf("%w: empty file", ErrVerify)
		}
		p.markVerified(dl, 0)
		return 0, nil
	}
	srcs := set.all()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sc := d.newSchedule(runCtx, n, dl, srcs)
	if sc.remaining == 0 {
		return 0, nil
	}
	if sc.liveSources() == 0 {
		return 0, d.noSources(srcs)
	}
	prog := &fetchProgress{req: req, dl: dl, sc: sc, set: set,
		done: min(int64(countBits(dl.Verified, n))*content.ChunkSize, dl.Size)}
	w := &worker{d: d, dl: dl, p: p, sc: sc, onQueue: prog.queued}
	w.onChunk = func(c int, length int) {
		p.markVerified(dl, c)
		d.cfg.Swarm.verified(dl.Hash)
		prog.chunk(length)
	}
	if d.cfg.Swarm != nil {
		w.onAlts = func(keys []Key) { d.heardFrom(dl, keys) }
	}
	var wg sync.WaitGroup
	start := func(s *source) {
		for range d.cfg.PerSource {
			wg.Go(func() { w.run(runCtx, s) })
		}
	}
	for _, s := range srcs {
		if !s.dropped {
			start(s)
		}
	}
	if d.cfg.Swarm != nil {
		wg.Go(func() { set.meshLoop(sc, n, start) })
	}
	if req.Find != nil {
		wg.Go(func() { set.findLoop(sc, req.Find, refindEvery(d.cfg.PartialWait), n, start) })
	}
	wg.Wait()
	return prog.fetched, d.fetchErr(ctx, sc, set, dl)
}

// fetchErr is how a fetch whose workers are done ended: nil when every
// chunk is in.
func (d *Downloader) fetchErr(ctx context.Context, sc *schedule, set *sourceSet, dl *Download) error {
	fatal, remaining := sc.result()
	switch {
	case errors.Is(fatal, errStalled):
		return fmt.Errorf("%w (partial kept, rerun to resume): %w", ErrNoSources, fatal)
	case errors.Is(fatal, ErrNoSources):
		return d.noSources(set.all())
	case fatal != nil: // a claimed chunk may have failed to write
		return fatal
	case remaining == 0:
		return nil
	default:
		return fmt.Errorf("download interrupted, partial kept in %s: %w", dl.PartPath, ctx.Err())
	}
}

// newSchedule schedules dl's missing chunks from srcs, a partial hit
// among them holding nothing until it answers, and stops after
// PartialWait without a new chunk when only partial holders are left.
func (d *Downloader) newSchedule(ctx context.Context, n int, dl *Download, srcs []*source) *schedule {
	for _, s := range srcs {
		if s.Partial && s.have == nil {
			s.have = make([]byte, (n+7)/8)
		}
	}
	sc := newSchedule(ctx, n, dl.Verified, srcs, d.cfg.Swarm != nil)
	sc.stallAfter = max(d.cfg.PartialWait, 0)
	return sc
}

// fetchProgress counts the chunks and bytes of a download as its workers
// verify them and reports each change through Request.Progress. Safe for
// concurrent use.
type fetchProgress struct {
	req Request
	dl  *Download
	sc  *schedule
	set *sourceSet

	mu      sync.Mutex // guards fetched, done and Progress calls
	fetched int        // chunks verified and written by this run
	done    int64      // bytes verified, carried-over chunks included
}

// chunk counts one more chunk of length bytes and reports.
func (f *fetchProgress) chunk(length int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetched++
	f.done += int64(length)
	f.report()
}

// queued reports a change of a source's queue place.
func (f *fetchProgress) queued() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.report()
}

// report calls Request.Progress, if set, with f.mu held.
func (f *fetchProgress) report() {
	if f.req.Progress != nil {
		f.req.Progress(Progress{Name: f.dl.Name, Hash: f.dl.Hash, Size: f.dl.Size, Done: f.done, Sources: f.sc.liveSources(), Queued: queuePlaces(f.set.all())})
	}
}

// queuePlaces lists this download's places in its sources' queues.
func queuePlaces(srcs []*source) []QueuePlace {
	var out []QueuePlace
	for _, s := range srcs {
		if q, ok := s.queuePlace(); ok {
			out = append(out, QueuePlace{Source: s.Name, Position: q.Position, Length: q.Length, Wait: q.ETA})
		}
	}
	return out
}

// noSources builds ErrNoSources with every source's reason.
func (d *Downloader) noSources(srcs []*source) error {
	var errs []error
	for _, s := range srcs {
		if s.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, s.err))
		}
	}
	return fmt.Errorf("%w (partial kept, rerun to resume): %w", ErrNoSources, errors.Join(errs...))
}
