package overlay

import (
	"net/netip"
	"time"
)

// beaconRetry is how long a beacon's sender (key, and source address) is
// not re-joined after a try.
const beaconRetry = 5 * time.Second

// Beacon-driven joins, network-wide: a beacon costs its sender one
// broadcast and makes every receiver dial its source, so a forged beacon
// could aim every node's QUIC handshakes at a victim. Joining one member
// brings in the whole network, so few are ever needed.
const (
	beaconJoinRate  = 4 // per second
	beaconJoinBurst = 8
)

// shouldTry reports whether to join the sender of a beacon naming id from
// src now: not the same key or source again within beaconRetry, and not
// more than beaconJoinRate joins a second in all.
// Each call costs O(1) amortised whatever the flood: entries expire from
// the front of their queues, and only admitted joins add any.
func (d *discovery) shouldTry(id NodeID, src netip.Addr, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tried.expire(now)
	d.triedAddr.expire(now)
	if d.tried.has(id) || d.triedAddr.has(src) {
		return false
	}
	if !d.joinRate.AllowN(now, 1) {
		d.n.stats.beaconsThrottled.Add(1)
		return false
	}
	d.tried.add(id, now)
	d.triedAddr.add(src, now)
	return true
}

// recentSet remembers keys for beaconRetry, in the order they came: at most
// the joins admitted in that time (beaconJoinBurst + beaconJoinRate per
// second), so it stays small under any flood. Not safe for concurrent use.
type recentSet[K comparable] struct {
	at    map[K]time.Time
	order []K // oldest first
}

func newRecentSet[K comparable]() recentSet[K] { return recentSet[K]{at: make(map[K]time.Time)} }

// expire drops the keys added beaconRetry or more before now.
func (s *recentSet[K]) expire(now time.Time) {
	for len(s.order) > 0 {
		k := s.order[0]
		if now.Sub(s.at[k]) < beaconRetry {
			return
		}
		delete(s.at, k)
		s.order = s.order[1:]
	}
}

func (s *recentSet[K]) has(k K) bool { _, ok := s.at[k]; return ok }

// add records k at now; k must not be in the set.
func (s *recentSet[K]) add(k K, now time.Time) {
	s.at[k] = now
	s.order = append(s.order, k)
}

// joiner joins beacon senders one at a time, by their stand-ins: the
// transport dials the paths the beacons came in on, pinned to their keys.
func (d *discovery) joiner() {
	for {
		select {
		case <-d.n.ctx.Done():
			return
		case peer := <-d.joinQ:
			id, _ := StandInID(peer)
			if _, ok := d.n.members.lookupID(id); ok {
				continue
			}
			if _, err := d.n.Join([]string{peer.String()}, ViaBeacon); err != nil {
				d.n.log.Debug("join beacon sender failed", "peer", id, "err", err)
			} else {
				d.n.log.Info("joined beacon sender", "peer", id, "members", d.n.NumMembers())
			}
		}
	}
}
