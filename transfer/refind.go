package transfer

import (
	"context"
	"time"
)

// maxRefindEvery bounds how often Request.Find is asked.
const maxRefindEvery = 5 * time.Second

// refindEvery is how often a download with no whole-file source asks
// for sources again: maxRefindEvery, or a quarter of its PartialWait if
// less, so that a whole copy that comes back is found before it gives up.
func refindEvery(partialWait time.Duration) time.Duration {
	if partialWait > 0 && partialWait/4 < maxRefindEvery {
		return max(partialWait/4, probeEvery)
	}
	return maxRefindEvery
}

// findLoop asks find for sources every interval while the download is
// starved (no live source is known to hold a missing chunk and none came
// for that long), until the schedule ends, and starts using those it does
// not know yet (start runs a new source's workers).
func (ss *sourceSet) findLoop(sc *schedule, find func(context.Context) []Source, every time.Duration, chunks int, start func(*source)) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-sc.ended:
			return
		case <-sc.parent.Done():
			return
		case <-tick.C:
		}
		if !sc.starved(time.Now(), every) {
			continue
		}
		for _, s := range find(sc.parent) {
			if src := ss.addFound(s, chunks); src != nil {
				sc.add(src)
				start(src)
			}
		}
	}
}

// addFound makes s a new source of a file of chunks chunks, unless the
// download uses it already (same key, or same address for a source
// without one) or has MaxSources. A partial one counts as holding
// nothing until it answers.
func (ss *sourceSet) addFound(s Source, chunks int) *source {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.list) >= ss.d.cfg.MaxSources {
		return nil
	}
	for _, x := range ss.list {
		if x.Fingerprint == s.Fingerprint && (s.Fingerprint != [32]byte{} || x.Addr == s.Addr) {
			return nil
		}
	}
	src := ss.d.sources([]Source{s})[0]
	if s.Partial {
		src.have = make([]byte, (chunks+7)/8)
	}
	ss.list = append(ss.list, src)
	ss.d.log.Debug("source found again", "source", src.Name, "addr", src.Addr, "partial", s.Partial)
	return src
}
