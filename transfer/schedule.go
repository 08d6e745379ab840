package transfer

import (
	"context"
	"sync"

	"github.com/servent-p2p/servent/storage"
)

const chunkBytes = storage.ChunkSize

// Chunk states in a schedule.
const (
	chunkPending = iota
	chunkInFlight
	chunkDone
)

// assignment is one request for one chunk from one source. A chunk may
// have two assignments near the end of a download (work stealing); the
// first verified copy wins and the other is cancelled.
type assignment struct {
	chunk  int
	src    *source
	ctx    context.Context
	cancel context.CancelFunc
}

// schedule hands chunks to sources. It is safe for concurrent use.
type schedule struct {
	parent context.Context

	mu        sync.Mutex
	state     []uint8
	holders   map[int][]*assignment
	queue     []int // pending chunks, in order; stale entries are skipped
	remaining int
	live      int   // sources not dropped
	fatal     error // set once: stops every worker
	wake      chan struct{}
}

// newSchedule schedules every chunk whose bit is clear in verified.
func newSchedule(ctx context.Context, n int, verified []byte, sources int) *schedule {
	s := &schedule{parent: ctx, state: make([]uint8, n), holders: make(map[int][]*assignment), live: sources, wake: make(chan struct{})}
	for i := range n {
		if bitSet(verified, i) {
			s.state[i] = chunkDone
			continue
		}
		s.queue = append(s.queue, i)
		s.remaining++
	}
	return s
}

// broadcast wakes every waiting worker. Called with mu held.
func (s *schedule) broadcast() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// next returns the next assignment for src, or nil and a channel closed
// when something changes, or finished=true when src has nothing more to do.
func (s *schedule) next(src *source, timeoutCtx func(context.Context) (context.Context, context.CancelFunc)) (a *assignment, wait <-chan struct{}, finished bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fatal != nil || s.remaining == 0 || src.dropped || s.parent.Err() != nil {
		return nil, nil, true
	}
	c := -1
	for len(s.queue) > 0 && c < 0 {
		if i := s.queue[0]; s.state[i] == chunkPending {
			c = i
		}
		s.queue = s.queue[1:]
	}
	if c < 0 {
		c = s.stealable(src)
	}
	if c < 0 {
		return nil, s.wake, false
	}
	ctx, cancel := timeoutCtx(s.parent)
	a = &assignment{chunk: c, src: src, ctx: ctx, cancel: cancel}
	s.state[c] = chunkInFlight
	s.holders[c] = append(s.holders[c], a)
	return a, nil, false
}

// stealable picks an in-flight chunk held by exactly one other source, so
// a slow source does not hold up the end of a download. -1 if none.
func (s *schedule) stealable(src *source) int {
	for i, st := range s.state {
		if st == chunkInFlight && len(s.holders[i]) == 1 && s.holders[i][0].src != src {
			return i
		}
	}
	return -1
}

// release removes a from its chunk's holders. Called with mu held.
func (s *schedule) release(a *assignment) {
	a.cancel()
	hs := s.holders[a.chunk]
	for i, h := range hs {
		if h == a {
			hs = append(hs[:i], hs[i+1:]...)
			break
		}
	}
	if len(hs) == 0 {
		delete(s.holders, a.chunk)
	} else {
		s.holders[a.chunk] = hs
	}
}

// fail gives a's chunk back to the queue unless another source holds it.
func (s *schedule) fail(a *assignment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.release(a)
	if s.state[a.chunk] == chunkInFlight && len(s.holders[a.chunk]) == 0 {
		s.state[a.chunk] = chunkPending
		s.queue = append([]int{a.chunk}, s.queue...)
	}
	s.broadcast()
}

// claim reports whether a's verified data is the first for its chunk; if
// so the chunk is done and every other request for it is cancelled. The
// caller must then write it (or call abort).
func (s *schedule) claim(a *assignment) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.state[a.chunk] != chunkDone
	s.release(a)
	if first {
		s.state[a.chunk] = chunkDone
		s.remaining--
		for _, h := range s.holders[a.chunk] {
			h.cancel()
		}
	}
	s.broadcast()
	return first
}

// drop stops using src; when no source is left with chunks remaining, the
// schedule fails with ErrNoSources. It reports whether src was still in use.
func (s *schedule) drop(src *source, err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if src.dropped {
		return false
	}
	src.dropped = true
	src.err = err
	s.live--
	if s.live == 0 && s.remaining > 0 && s.fatal == nil {
		s.fatal = ErrNoSources
	}
	s.broadcast()
	return true
}

// abort stops every worker with err (the first abort wins).
func (s *schedule) abort(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fatal == nil {
		s.fatal = err
	}
	for _, hs := range s.holders {
		for _, h := range hs {
			h.cancel()
		}
	}
	s.broadcast()
}

// result returns the fatal error and how many chunks are still missing.
func (s *schedule) result() (error, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatal, s.remaining
}

// liveSources returns how many sources are still in use.
func (s *schedule) liveSources() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}

// missingBytes estimates the bytes still to be written (whole chunks).
func (s *schedule) missingBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(s.remaining) * chunkBytes
}
