package storage

import (
	"context"
	"log/slog"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce is how long Watch waits after the last file-system event
// before rescanning; watchMaxDelay caps the wait under a steady stream of
// events.
const (
	watchDebounce = 500 * time.Millisecond
	watchMaxDelay = 5 * time.Second
)

// Watch keeps the catalog current until ctx is done. It starts with a
// full Scan (so callers need not scan first), then rescans about 500 ms
// after file-system events under the roots (fsnotify, debounced) and every
// interval (if positive) regardless, as a safety net for events the kernel drops or
// file systems that send none. A receive on trigger (nil: none) rescans at
// once, for callers that learn of a change another way (a served file no
// longer matched its record). onChange, if set, is called from Watch's
// goroutine after each scan that changed the catalog. Scan errors are
// logged, not returned. Watch blocks; run it in its own goroutine and
// cancel ctx to stop it, before closing the store.
func (s *Store) Watch(ctx context.Context, roots []string, opts ScanOptions, interval time.Duration, trigger <-chan struct{}, onChange func(ScanStats)) {
	wr := &watchRun{s: s, ctx: ctx, roots: roots, opts: opts, log: opts.Logger, onChange: onChange,
		ws: &watchSet{watched: make(map[string]bool)}}
	if wr.log == nil {
		wr.log = s.log
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		wr.log.Warn("file-system events unavailable; relying on periodic rescans", "err", err)
	} else {
		wr.ws.w = w
		defer w.Close()
	}
	wr.rescan()
	wr.loop(interval, trigger)
}

// watchRun is the state of one Watch call.
type watchRun struct {
	s        *Store
	ctx      context.Context
	roots    []string
	opts     ScanOptions
	log      *slog.Logger
	ws       *watchSet
	onChange func(ScanStats)
}

// rescan scans the roots, watches the directories the scan walked and
// tells onChange when the catalog changed.
func (wr *watchRun) rescan() {
	st, dirs, err := wr.s.scan(wr.ctx, wr.roots, wr.opts)
	if err != nil {
		if wr.ctx.Err() == nil {
			wr.log.Warn("rescan failed", "err", err)
		}
		return
	}
	if failed, err := wr.ws.sync(dirs); err != nil {
		wr.log.Warn("cannot watch some directories; periodic rescans cover them", "count", failed, "err", err)
	}
	if st.Changed() && wr.onChange != nil {
		wr.onChange(st)
	}
}

// loop rescans after file-system events (debounced), every interval (if
// positive) and on each receive from trigger, until ctx is done.
func (wr *watchRun) loop(interval time.Duration, trigger <-chan struct{}) {
	var periodic <-chan time.Time
	if interval > 0 {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		periodic = tick.C
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	var pending bool
	var first time.Time
	for {
		select {
		case <-wr.ctx.Done():
			return
		case <-wr.ws.events():
			if !pending {
				pending, first = true, time.Now()
			}
			if time.Since(first) < watchMaxDelay {
				debounce.Reset(watchDebounce)
			}
		case err := <-wr.ws.errors():
			wr.log.Warn("file-system watcher", "err", err) // e.g. event queue overflow
			pending = true
			debounce.Reset(watchDebounce)
		case <-debounce.C:
			pending = false
			wr.rescan()
		case <-periodic:
			wr.rescan()
		case <-trigger:
			wr.rescan()
		}
	}
}

// watchSet tracks which directories have an fsnotify watch.
type watchSet struct {
	w       *fsnotify.Watcher // nil when events are unavailable
	watched map[string]bool
}

func (ws *watchSet) events() <-chan fsnotify.Event {
	if ws.w == nil {
		return nil
	}
	return ws.w.Events
}

func (ws *watchSet) errors() <-chan error {
	if ws.w == nil {
		return nil
	}
	return ws.w.Errors
}

// sync watches exactly dirs: new ones are added, vanished ones removed. It
// returns how many could not be added and the first such error.
func (ws *watchSet) sync(dirs []string) (int, error) {
	if ws.w == nil {
		return 0, nil
	}
	want := make(map[string]bool, len(dirs))
	var failed int
	var first error
	for _, d := range dirs {
		want[d] = true
		if ws.watched[d] {
			continue
		}
		if err := ws.w.Add(d); err != nil {
			failed++
			if first == nil {
				first = err
			}
			continue
		}
		ws.watched[d] = true
	}
	for d := range ws.watched {
		if !want[d] {
			_ = ws.w.Remove(d) // fails harmlessly if the kernel already dropped it
			delete(ws.watched, d)
		}
	}
	return failed, first
}
