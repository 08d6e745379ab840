package transfer

// Chunk choice: which pending chunk a source is asked for next.

// pick chooses a pending chunk that has(): one given back first, else the
// rarest among the next scanLimit of the hand-out order (the first found
// held by floor partial sources, the fewest possible, if any). -1 if
// none. Called with mu held.
func (s *schedule) pick(has func(int) bool, floor int) int {
	for i := 0; i < len(s.retry); i++ {
		c := s.retry[i]
		if s.state[c] != chunkPending {
			s.retry = append(s.retry[:i], s.retry[i+1:]...)
			i--
			continue
		}
		if has(c) {
			s.retry = append(s.retry[:i], s.retry[i+1:]...)
			return c
		}
	}
	for s.pos < len(s.order) && s.state[s.order[s.pos]] != chunkPending {
		s.pos++
	}
	best, bestN := -1, 0
	for i, seen := s.pos, 0; i < len(s.order) && seen < scanLimit; i++ {
		c := s.order[i]
		if s.state[c] != chunkPending || !has(c) {
			continue
		}
		seen++
		if best < 0 || s.avail[c] < bestN {
			best, bestN = c, s.avail[c]
			if bestN <= floor {
				break
			}
		}
	}
	return best
}

// stealable picks an in-flight chunk that has() and that is held by
// exactly one other source, so a slow source does not hold up the end of
// a download. -1 if none.
func (s *schedule) stealable(src *source, has func(int) bool) int {
	for i, st := range s.state {
		if st == chunkInFlight && len(s.holders[i]) == 1 && s.holders[i][0].src != src && has(i) {
			return i
		}
	}
	return -1
}
