package transfer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/servent-p2p/servent/content"
)

// resendAfter: a chunk a seeder sent to one downloader of the swarm is
// offered to the others only this long after that upload ended, so they
// take it from that downloader instead (the seeder's uplink sends each
// chunk about once early on, as BitTorrent's super-seeding does).
const resendAfter = 2 * time.Second

// swarmSlots caps the chunks a node sends to swarm members at once, one
// per member: its uplink sends a few chunks fast rather than many
// slowly, so each reaches the swarm, and is passed on, sooner.
const swarmSlots = 3

// startUpload takes an upload slot for swarm member to; false: none
// free. A taken slot is given back with endUpload.
func (s *Swarm) startUpload(to Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.uploads) >= swarmSlots || s.uploads[to] {
		return false
	}
	s.uploads[to] = true
	return true
}

// endUpload gives back to's upload slot.
func (s *Swarm) endUpload(to Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.uploads, to)
}

// sendMark is a chunk a seeder is sending, or sent, to one swarm member.
type sendMark struct {
	to      Key
	sending bool      // the upload is in progress
	ended   time.Time // when it ended, if not sending
}

// held reports whether m keeps the chunk from a requester other than m.to.
func (m sendMark) held(now time.Time) bool {
	return m.sending || now.Sub(m.ended) < resendAfter
}

// handOut decides whether this node, holding the whole of h (size
// bytes), sends chunk c to the swarm member to now. It holds back a
// chunk that went to another member within resendAfter, or is going to
// one. It returns the X-Available-Ranges to answer with: every chunk
// except those held back from to. When ok, c is marked as being sent to
// to until sentChunk.
func (s *Swarm) handOut(h content.Hash, size int64, c int, to Key, now time.Time) (ranges string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	marks := s.seeding[h]
	if marks == nil {
		if len(s.seeding) >= meshFiles {
			clear(s.seeding) // forgetting only means a chunk may be sent twice
		}
		marks = make(map[int]sendMark)
		s.seeding[h] = marks
	}
	var heldBack []int
	for i, m := range marks {
		switch {
		case !m.held(now):
			delete(marks, i)
		case m.to != to:
			heldBack = append(heldBack, i)
		}
	}
	ok = !slices.Contains(heldBack, c)
	if ok {
		marks[c] = sendMark{to: to, sending: true}
	}
	return complementRanges(heldBack, size), ok
}

// sentChunk ends the upload of chunk c of h to to: when it was whole,
// the chunk is held back from others for resendAfter; otherwise at once
// offered again.
func (s *Swarm) sentChunk(h content.Hash, c int, to Key, whole bool, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	marks := s.seeding[h]
	if m, ok := marks[c]; !ok || m.to != to {
		return
	}
	if whole {
		marks[c] = sendMark{to: to, ended: now}
	} else {
		delete(marks, c)
	}
}

// complementRanges formats every chunk of a file of size bytes except
// those in out as an X-Available-Ranges value (at most maxRanges ranges).
func complementRanges(out []int, size int64) string {
	slices.Sort(out)
	n := content.NumChunks(size)
	var b strings.Builder
	b.WriteString("bytes ")
	count, from := 0, 0
	emit := func(to int) { // chunks [from, to)
		if to <= from || count == maxRanges {
			return
		}
		if count > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d-%d", int64(from)*content.ChunkSize, max(min(int64(to)*content.ChunkSize, size)-1, 0))
		count++
	}
	for _, c := range out {
		emit(c)
		from = c + 1
	}
	emit(n)
	return b.String()
}
