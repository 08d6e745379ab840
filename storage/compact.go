package storage

import "time"

// compactIdleCheck is how often the compactor looks at the tree when
// nothing is written: a table flushed after the last write's check is
// compacted within it.
const compactIdleCheck = time.Minute

// compactor keeps badger's tree of tables in shape in place of badger's
// own compactors, which wake every 50 ms each whether or not anything was
// written: two of them were 40 wake-ups a second, the largest idle CPU
// cost of a servent. It looks after every write (wrote) and once a
// minute, and compacts (badger's Flatten) while a level is over its
// target, as badger's compactors would. Flushed tables pile up in level 0
// only while it compacts; badger stalls writes at 15 of them, and a write
// adds at most one per MiB (memTableSize).
type compactor struct {
	kick chan struct{} // a write happened
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the loop has returned
}

func newCompactor() *compactor {
	return &compactor{kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// wrote tells the compactor that a transaction committed. Never blocks;
// a nil compactor (read-only store) ignores it.
func (c *compactor) wrote() {
	if c == nil {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// runCompactor is c's loop; it returns once c.stop is closed.
func (s *Store) runCompactor(c *compactor) {
	defer close(c.done)
	t := time.NewTicker(compactIdleCheck)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		case <-t.C:
		}
		if !s.compactionDue() {
			continue
		}
		if err := s.db.Flatten(1); err != nil {
			s.log.Warn("compaction", "err", err)
		}
	}
}

// compactionDue reports whether a level of the tree is over its target
// (level 0: too many tables), badger's own rule for compacting.
func (s *Store) compactionDue() bool {
	for _, l := range s.db.Levels() {
		if l.Score >= 1 {
			return true
		}
	}
	return false
}

// close stops the loop and waits for it (and a compaction under way).
func (c *compactor) close() {
	if c == nil {
		return
	}
	close(c.stop)
	<-c.done
}
