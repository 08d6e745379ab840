package transfer

import (
	"slices"
	"time"
)

// queueConfig sizes an uploadQueue.
type queueConfig struct {
	// Slots is how many peers are served at once.
	Slots int
	// PerPeer caps one slot holder's requests in flight.
	PerPeer int
	// Limit caps how many peers wait; beyond it a peer is refused busy.
	Limit int
	// PollMin and PollMax are the poll interval advertised to queued
	// peers; one that does not ask again within PollMax loses its place.
	PollMin, PollMax time.Duration
	// Idle: a slot holder with no request in flight for this long gives
	// its slot up (a closed connection gives it up at once).
	Idle time.Duration
}

// verdict is the queue's answer to one request.
type verdict struct {
	serve  bool      // serve it now (the peer holds a slot)
	queued bool      // the peer waits; q says where
	q      queueInfo // valid when queued
	// neither: busy (queue full, peer at its request cap, or a client
	// that cannot queue and no free slot)
}

// slotHolder is a peer being served.
type slotHolder struct {
	active      int // requests in flight
	since, last time.Time
}

// waiter is a peer's place in the queue.
type waiter struct {
	peer   string
	polled time.Time
}

// uploadQueue decides which peers an uploader serves: at most Slots peers
// at once (so one peer cannot take every slot), the others in a bounded
// FIFO with one place per peer, served in order. Peers are keys (the
// authenticated key fingerprint where there is one). A synchronous state
// machine: time is passed in; not safe for concurrent use.
type uploadQueue struct {
	cfg     queueConfig
	holders map[string]*slotHolder
	waiting []waiter
	conns   map[string]int
	avgHold time.Duration // moving average of how long a slot is held
	// onEvent, if set, is told when a peer joins the queue, gets a slot
	// or gives one up (held: for how long).
	onEvent func(ev queueEvent, peer string, held time.Duration)
}

// queueEvent is what happened to a peer in an uploadQueue.
type queueEvent int

const (
	eventQueued    queueEvent = iota // joined the queue
	eventSlotStart                   // got a slot
	eventSlotEnd                     // gave its slot up (done, idle, gone or stalled)
)

func newUploadQueue(cfg queueConfig, onEvent func(ev queueEvent, peer string, held time.Duration)) *uploadQueue {
	return &uploadQueue{cfg: cfg, holders: make(map[string]*slotHolder), conns: make(map[string]int), onEvent: onEvent}
}

func (u *uploadQueue) event(ev queueEvent, peer string, held time.Duration) {
	if u.onEvent != nil {
		u.onEvent(ev, peer, held)
	}
}

// admit answers a request from peer at now; canQueue says the client
// sent X-Queue. A served request must be followed by finish.
func (u *uploadQueue) admit(now time.Time, peer string, canQueue bool) verdict {
	u.expire(now)
	if h := u.holders[peer]; h != nil {
		if h.active >= u.cfg.PerPeer {
			return verdict{}
		}
		h.active++
		h.last = now
		return verdict{serve: true}
	}
	free := u.cfg.Slots - len(u.holders)
	i := slices.IndexFunc(u.waiting, func(w waiter) bool { return w.peer == peer })
	switch {
	case i < 0 && !canQueue:
		if free > len(u.waiting) {
			u.start(now, peer)
			return verdict{serve: true}
		}
		return verdict{}
	case i < 0 && len(u.waiting) >= u.cfg.Limit && free <= len(u.waiting):
		return verdict{}
	case i < 0:
		u.waiting = append(u.waiting, waiter{peer: peer})
		i = len(u.waiting) - 1
		if i >= free {
			u.event(eventQueued, peer, 0)
		}
	}
	if i < free {
		u.waiting = slices.Delete(u.waiting, i, i+1)
		u.start(now, peer)
		return verdict{serve: true}
	}
	u.waiting[i].polled = now
	return verdict{queued: true, q: u.info(i + 1)}
}

// info describes queue position pos (1 is next).
func (u *uploadQueue) info(pos int) queueInfo {
	rounds := (pos + u.cfg.Slots - 1) / u.cfg.Slots
	return queueInfo{Position: pos, Length: len(u.waiting), Limit: u.cfg.Slots,
		PollMin: u.cfg.PollMin, PollMax: u.cfg.PollMax, ETA: time.Duration(rounds) * u.avgHold}
}

func (u *uploadQueue) start(now time.Time, peer string) {
	u.holders[peer] = &slotHolder{active: 1, since: now, last: now}
	u.event(eventSlotStart, peer, 0)
}

// end takes peer's slot away.
func (u *uploadQueue) end(now time.Time, peer string) {
	h := u.holders[peer]
	if h == nil {
		return
	}
	delete(u.holders, peer)
	held := now.Sub(h.since)
	if u.avgHold == 0 {
		u.avgHold = held
	} else {
		u.avgHold = (3*u.avgHold + held) / 4
	}
	u.event(eventSlotEnd, peer, held)
}

// finish records the end of a served request of peer.
func (u *uploadQueue) finish(now time.Time, peer string) {
	if h := u.holders[peer]; h != nil && h.active > 0 {
		h.active--
		h.last = now
	}
}

// revoke takes peer's slot away at once (it stopped reading).
func (u *uploadQueue) revoke(now time.Time, peer string) { u.end(now, peer) }

// expire frees the slots of idle holders and drops waiters that did not
// poll within PollMax.
func (u *uploadQueue) expire(now time.Time) {
	for peer, h := range u.holders {
		if h.active == 0 && now.Sub(h.last) >= u.cfg.Idle {
			u.end(now, peer)
		}
	}
	u.waiting = slices.DeleteFunc(u.waiting, func(w waiter) bool { return now.Sub(w.polled) > u.cfg.PollMax })
}

// connOpened counts a connection of peer.
func (u *uploadQueue) connOpened(peer string) { u.conns[peer]++ }

// connClosed counts a closed connection of peer; its last one closing
// gives up its slot and its place: a peer holds its place by staying
// connected.
func (u *uploadQueue) connClosed(now time.Time, peer string) {
	if u.conns[peer]--; u.conns[peer] > 0 {
		return
	}
	delete(u.conns, peer)
	u.end(now, peer)
	u.waiting = slices.DeleteFunc(u.waiting, func(w waiter) bool { return w.peer == peer })
}

// counts returns how many peers are served and how many wait.
func (u *uploadQueue) counts() (serving, waiting int) { return len(u.holders), len(u.waiting) }
