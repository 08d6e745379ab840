package transfer

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/servent-p2p/servent/content"
)

// worker fetches chunks for one download; run is started PerSource times
// for each source.
type worker struct {
	d       *Downloader
	dl      *Download
	p       *partial
	sc      *schedule
	onChunk func(chunk, length int)
	onQueue func() // a source's queue place changed
	// onAlts is told of the holders a source named in X-Alt; nil when
	// swarming is off.
	onAlts func([]Key)
}

// run takes chunks for src from the schedule until the download is done,
// src is dropped, or ctx ends.
func (w *worker) run(ctx context.Context, src *source) {
	buf := make([]byte, content.ChunkSize)
	timeout := func(parent context.Context) (context.Context, context.CancelFunc) {
		return context.WithTimeout(parent, w.d.cfg.ChunkTimeout)
	}
	for {
		a, wait, retryIn, finished := w.sc.next(src, time.Now(), timeout)
		if finished {
			return
		}
		if a == nil {
			if !w.idle(ctx, wait, retryIn) {
				return
			}
			continue
		}
		off, n := content.ChunkSpan(a.chunk, w.dl.Size)
		data := buf[:n]
		ans, err := src.get(a.ctx, "/f/"+w.dl.Hash.String(), off, data, false)
		if w.onAlts != nil && ans.alts != "" {
			w.onAlts(parseAlts(ans.alts))
		}
		if errors.Is(err, errNotYet) {
			have, perr := parseRanges(ans.ranges, w.dl.Size)
			if perr != nil {
				have = make([]byte, len(w.dl.Verified))
			}
			w.sc.notYet(a, have, time.Now())
			continue
		}
		if err == nil && !content.VerifyChunk(w.dl.Hash, w.dl.Outboard, a.chunk, data) {
			err = errLiar
		}
		if err == nil {
			w.answered(src, ans)
		}
		if err != nil {
			stolen := a.ctx.Err() != nil && ctx.Err() == nil && !errors.Is(a.ctx.Err(), context.DeadlineExceeded)
			w.sc.fail(a)
			if ctx.Err() != nil || stolen {
				continue // cancelled: the download ended or another source won
			}
			w.failed(ctx, src, err)
			continue
		}
		if !w.sc.claim(a) {
			continue // another source delivered this chunk first
		}
		if err := w.keep(src, a.chunk, data, off); err != nil {
			w.sc.abort(err)
			return
		}
	}
}

// keep writes chunk, verified and claimed by this worker, at off in the
// partial file, records it as verified and credits src with it.
func (w *worker) keep(src *source, chunk int, data []byte, off int64) error {
	if err := w.p.writeChunk(data, off, w.dl, w.sc.missingBytes); err != nil {
		return err
	}
	if err := w.d.cfg.State.MarkVerified(w.dl.Hash, chunk); err != nil {
		w.d.log.Warn("mark chunk verified", "hash", w.dl.Hash, "chunk", chunk, "err", err)
	}
	w.d.log.Debug("chunk verified", "hash", w.dl.Hash, "chunk", chunk, "source", src.Name)
	src.failures.Store(0)
	w.leaveQueue(src)
	src.bytes.Add(int64(len(data)))
	src.chunks.Add(1)
	w.onChunk(chunk, len(data))
	return nil
}

// idle waits until the schedule changes (wait is closed), retryIn has
// passed (when non-zero) or ctx ends; false means ctx ended.
func (w *worker) idle(ctx context.Context, wait <-chan struct{}, retryIn time.Duration) bool {
	var timer <-chan time.Time
	if retryIn > 0 {
		t := time.NewTimer(retryIn)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-wait:
	case <-timer:
	case <-ctx.Done():
		return false
	}
	return true
}

// answered records what a source that sent a verified chunk holds (the
// ranges it listed, or the whole file when it listed none) and that it
// serves now.
func (w *worker) answered(src *source, ans answer) {
	if ans.ranges == "" {
		w.sc.served(src, nil)
		return
	}
	if have, err := parseRanges(ans.ranges, w.dl.Size); err == nil {
		w.sc.served(src, have)
	}
}

// failed decides what a failed request means for its source: a liar or a
// source without the file is dropped at once; a busy source is alive and
// is waited for (holding this download's place in its queue, if it gave
// one) for as long as the download runs; anything else, a lost
// connection or a failed redial included, counts towards MaxFailures.
func (w *worker) failed(ctx context.Context, src *source, err error) {
	log := w.d.log.With("source", src.Name, "hash", w.dl.Hash)
	var busy busyError
	switch {
	case errors.Is(err, errLiar):
		src.liar.Store(true)
		w.leaveQueue(src)
		if w.sc.drop(src, err) {
			log.Warn("source sent bad data; dropped for this file", "err", err)
		}
		return
	case errors.Is(err, errGoneAtSource):
		w.leaveQueue(src)
		if w.sc.drop(src, err) {
			log.Info("source dropped", "err", err)
		}
		return
	case errors.As(err, &busy):
		src.failures.Store(0)
		if src.setPlace(busy.place) {
			w.onQueue()
		}
		wait := busy.poll(rand.Float64())
		log.Debug("source busy", "retry_after", busy.after, "queued", busy.place != nil, "wait", wait)
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return
	}
	log.Debug("chunk request failed", "err", err)
	if src.failures.Add(1) >= int64(w.d.cfg.MaxFailures) {
		w.leaveQueue(src)
		if w.sc.drop(src, err) {
			log.Info("source dropped", "err", err)
		}
	}
}

// leaveQueue forgets src's queue place: it serves this download now, or
// is dropped.
func (w *worker) leaveQueue(src *source) {
	if src.setPlace(nil) {
		w.onQueue()
	}
}
