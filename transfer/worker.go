package transfer

import (
	"context"
	"errors"
	"time"

	"github.com/servent-p2p/servent/storage"
)

// worker fetches chunks for one download; run is started PerSource times
// for each source.
type worker struct {
	d       *Downloader
	dl      *Download
	p       *partial
	sc      *schedule
	onChunk func(chunk, length int)
}

// run takes chunks for src from the schedule until the download is done,
// src is dropped, or ctx ends.
func (w *worker) run(ctx context.Context, src *source) {
	buf := make([]byte, storage.ChunkSize)
	timeout := func(parent context.Context) (context.Context, context.CancelFunc) {
		return context.WithTimeout(parent, w.d.cfg.ChunkTimeout)
	}
	for {
		a, wait, finished := w.sc.next(src, timeout)
		if finished {
			return
		}
		if a == nil {
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return
			}
		}
		off := int64(a.chunk) * storage.ChunkSize
		data := buf[:min(storage.ChunkSize, w.dl.Size-off)]
		err := src.get(a.ctx, "/f/"+w.dl.Hash.String(), off, data, false)
		if err == nil && !storage.VerifyChunk(w.dl.Hash, w.dl.Outboard, a.chunk, data) {
			err = errLiar
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
		if err := w.p.writeChunk(data, off, w.dl, w.sc.missingBytes); err != nil {
			w.sc.abort(err)
			return
		}
		if err := w.d.cfg.State.MarkVerified(w.dl.Hash, a.chunk); err != nil {
			w.d.log.Warn("mark chunk verified", "hash", w.dl.Hash, "chunk", a.chunk, "err", err)
		}
		src.failures.Store(0)
		src.bytes.Add(int64(len(data)))
		src.chunks.Add(1)
		w.onChunk(a.chunk, len(data))
	}
}

// failed decides what a failed request means for its source: a liar or a
// source without the file is dropped at once, a busy source is waited
// for, anything else counts towards MaxFailures.
func (w *worker) failed(ctx context.Context, src *source, err error) {
	log := w.d.log.With("source", src.Name, "hash", w.dl.Hash)
	var busy busyError
	switch {
	case errors.Is(err, errLiar):
		src.liar.Store(true)
		if w.sc.drop(src, err) {
			log.Warn("source sent bad data; dropped for this file", "err", err)
		}
		return
	case errors.Is(err, errGoneAtSource), src.dialErr != nil, src.connDead():
		if w.sc.drop(src, err) {
			log.Info("source dropped", "err", err)
		}
		return
	case errors.As(err, &busy):
		log.Debug("source busy", "retry_after", busy.after)
		if src.failures.Add(1) >= int64(w.d.cfg.MaxFailures) {
			w.sc.drop(src, err)
			return
		}
		t := time.NewTimer(busy.after)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return
	}
	log.Debug("chunk request failed", "err", err)
	if src.failures.Add(1) >= int64(w.d.cfg.MaxFailures) {
		w.sc.drop(src, err)
	}
}
