package transfer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/servent-p2p/servent/content"
)

const chunkBytes = content.ChunkSize

// Chunk states in a schedule.
const (
	chunkPending = iota
	chunkInFlight
	chunkDone
)

// Scheduling bounds.
const (
	// scanLimit caps the pending chunks looked at to choose one: the
	// hand-out order is random when swarming, so a window of it is a
	// random sample and the choice stays cheap for huge files.
	scanLimit = 4096
	// probeEvery: a partial holder that has nothing this download still
	// needs, as far as its last answer said, is asked again this often.
	probeEvery = 500 * time.Millisecond
	// partialInFlight caps the requests in flight to a partial holder:
	// its uplink serves many downloaders at once, and a chunk queued
	// behind others there reaches the swarm late.
	partialInFlight = 2
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

// schedule hands chunks to sources: rarest first among the chunks a
// source holds (a partial holder says which in X-Available-Ranges), in a
// random order when swarming so that downloaders starting together ask a
// seeder for different chunks. It is safe for concurrent use.
type schedule struct {
	parent context.Context

	mu        sync.Mutex
	state     []uint8
	holders   map[int][]*assignment
	order     []int // hand-out order of the chunks
	pos       int   // order[:pos] holds no pending chunk
	retry     []int // chunks given back after a failure, handed out first
	avail     []int // per chunk: live partial sources that hold it
	remaining int   // chunks not done
	pending   int   // chunks neither done nor in flight
	live      int   // sources not dropped
	whole     int   // live sources that hold the whole file, as far as known
	// stallAfter: with no whole-file source live and no chunk verified for
	// this long, the download stops (errStalled); 0: it waits as long as
	// its partial holders answer.
	stallAfter time.Duration
	progressAt time.Time // when the last chunk was verified (or the start)
	fatal      error     // set once: stops every worker
	wake       chan struct{}
	ended      chan struct{} // closed when every chunk is done or fatal is set
}

// newSchedule schedules every chunk whose bit is clear in verified, to be
// fetched from srcs (more may be added). random shuffles the hand-out
// order; otherwise chunks go in file order.
func newSchedule(ctx context.Context, n int, verified []byte, srcs []*source, random bool) *schedule {
	s := &schedule{parent: ctx, state: make([]uint8, n), holders: make(map[int][]*assignment), avail: make([]int, n), wake: make(chan struct{}), ended: make(chan struct{}), progressAt: time.Now()}
	for i := range n {
		if bitSet(verified, i) {
			s.state[i] = chunkDone
			continue
		}
		s.order = append(s.order, i)
		s.remaining++
	}
	s.pending = s.remaining
	s.checkEnd()
	if random {
		rand.Shuffle(len(s.order), func(i, j int) { s.order[i], s.order[j] = s.order[j], s.order[i] })
	}
	for _, src := range srcs {
		if !src.dropped {
			s.addLocked(src)
		}
	}
	return s
}

// add starts using src.
func (s *schedule) add(src *source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addLocked(src)
	s.broadcast()
}

func (s *schedule) addLocked(src *source) {
	s.live++
	s.countHave(src.have, 1)
	if src.have == nil {
		s.whole++
	}
}

// countHave adds d to the availability of every chunk in have (nil: a
// whole-file holder, which every chunk has alike: not counted).
func (s *schedule) countHave(have []byte, d int) {
	if have == nil {
		return
	}
	for i := range s.avail {
		if bitSet(have, i) {
			s.avail[i] += d
		}
	}
}

// broadcast wakes every waiting worker and closes ended when the
// schedule ends. Called with mu held.
func (s *schedule) broadcast() {
	close(s.wake)
	s.wake = make(chan struct{})
	s.checkEnd()
}

// checkEnd closes ended once every chunk is done or fatal is set. Called
// with mu held.
func (s *schedule) checkEnd() {
	select {
	case <-s.ended:
	default:
		if s.remaining == 0 || s.fatal != nil {
			close(s.ended)
		}
	}
}

// next returns the next assignment for src; or nil and a channel closed
// when something changes (and, for a partial holder, how soon to ask
// again anyway); or finished=true when src has nothing more to do.
func (s *schedule) next(src *source, now time.Time, timeoutCtx func(context.Context) (context.Context, context.CancelFunc)) (a *assignment, wait <-chan struct{}, retryIn time.Duration, finished bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fatal != nil || s.remaining == 0 || src.dropped || s.parent.Err() != nil || s.stalled(now) {
		return nil, nil, 0, true
	}
	if now.Before(src.pausedUntil) { // it answered "not yet"
		return nil, s.wake, src.pausedUntil.Sub(now), false
	}
	if src.have != nil && src.inFlight >= partialInFlight {
		return nil, s.wake, 0, false
	}
	has := func(c int) bool { return src.have == nil || bitSet(src.have, c) }
	floor := 0 // the rarest a chunk can be: held by no partial source but src
	if src.have != nil {
		floor = 1
	}
	c := s.pick(has, floor)
	if c < 0 && s.pending == 0 {
		c = s.stealable(src, has)
	}
	if c < 0 && src.have != nil && !now.Before(src.probeAt) {
		// A partial holder may have verified more since it last said:
		// ask it for a missing chunk; its answer says what it has.
		c = s.pick(func(int) bool { return true }, 0)
		src.probeAt = now.Add(probeEvery)
	}
	if c < 0 {
		if src.have != nil {
			retryIn = max(src.probeAt.Sub(now), time.Millisecond)
		}
		return nil, s.wake, retryIn, false
	}
	ctx, cancel := timeoutCtx(s.parent)
	a = &assignment{chunk: c, src: src, ctx: ctx, cancel: cancel}
	if s.state[c] == chunkPending {
		s.pending--
	}
	s.state[c] = chunkInFlight
	s.holders[c] = append(s.holders[c], a)
	src.inFlight++
	return a, nil, 0, false
}

// stalled reports whether the download stops for want of a source: no
// request is in flight, no chunk was verified for stallAfter and no live
// source is known to hold a missing chunk (unheld), though partial holders
// were asked again every probeEvery. It then sets fatal to errStalled.
// Called with mu held.
func (s *schedule) stalled(now time.Time) bool {
	if s.stallAfter <= 0 || len(s.holders) > 0 || now.Sub(s.progressAt) < s.stallAfter || s.fatal != nil || !s.unheld() {
		return false
	}
	s.fatal = fmt.Errorf("%w: %d of %d chunks are still missing and no source that answered holds them "+
		"(only partial holders, none with a new chunk for %s)", errStalled, s.remaining, len(s.state), s.stallAfter)
	s.broadcast()
	return true
}

// release removes a from its chunk's holders. Called with mu held.
func (s *schedule) release(a *assignment) {
	a.cancel()
	a.src.inFlight--
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

// fail gives a's chunk back unless another source holds it.
func (s *schedule) fail(a *assignment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.giveBack(a)
	s.broadcast()
}

// giveBack releases a and makes its chunk pending again unless another
// source holds it. Called with mu held.
func (s *schedule) giveBack(a *assignment) {
	s.release(a)
	if s.state[a.chunk] == chunkInFlight && len(s.holders[a.chunk]) == 0 {
		s.state[a.chunk] = chunkPending
		s.pending++
		s.retry = append(s.retry, a.chunk)
	}
}

// notYet gives a's chunk back: its source does not send it now (it does
// not hold it yet, sent it to another member, or its swarm upload slots
// are taken); have is what it said it holds. It is asked again after
// probeEvery.
func (s *schedule) notYet(a *assignment, have []byte, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.giveBack(a)
	s.setHaveLocked(a.src, have)
	a.src.probeAt = now.Add(probeEvery)
	a.src.pausedUntil = a.src.probeAt
	s.broadcast()
}

// served records what src, which just sent a chunk, said it holds:
// have, or the whole file (nil). A pause after its "not yet" ends: a
// swarm member is sent one chunk at a time, so a request that overlapped
// the one just sent was turned away for that, and src serves again now.
func (s *schedule) served(src *source, have []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setHaveLocked(src, have)
	src.pausedUntil = time.Time{}
	s.broadcast()
}

func (s *schedule) setHaveLocked(src *source, have []byte) {
	if src.have == nil && have == nil {
		return
	}
	if !src.dropped {
		s.countHave(src.have, -1)
		s.countHave(have, 1)
		switch {
		case src.have == nil: // a whole-file holder turned out partial
			s.whole--
		case have == nil:
			s.whole++
		}
	}
	src.have = have
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
		if s.state[a.chunk] == chunkPending {
			s.pending--
		}
		s.state[a.chunk] = chunkDone
		s.remaining--
		s.progressAt = time.Now()
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
	s.countHave(src.have, -1)
	if src.have == nil {
		s.whole--
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

// starved reports whether no chunk was verified for d and no live source
// is known to hold a missing chunk (unheld).
func (s *schedule) starved(now time.Time, d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Sub(s.progressAt) >= d && s.unheld()
}

// unheld reports whether no live source is known to hold a chunk still
// missing: none holds the whole file and no partial holder's last answer
// listed one. A seeder that holds chunks back for other downloaders, or
// keeps this one in its queue, lists the others. Called with mu held.
func (s *schedule) unheld() bool {
	if s.whole > 0 {
		return false
	}
	for c, st := range s.state {
		if st != chunkDone && s.avail[c] > 0 {
			return false
		}
	}
	return true
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
