package sim

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
)

// Epoch is the virtual clock's origin: virtual time t is Epoch + t.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// planeBytes is what a datagram adds to a descriptor: the plane byte. UDP
// and IP headers are not counted.
const planeBytes = 1

// network is the discrete-event engine of one run: one query.Router per
// node, an event queue of deliveries, a virtual clock. Not safe for
// concurrent use.
type network struct {
	ids     []query.PeerID
	routers []*query.Router
	lat     Latency
	seed    uint64
	loss    float64
	lossRng *rand.Rand
	queue   eventQueue
	seq     uint64
	now     int64
	// handled counts the descriptors each node's router handled in the run.
	handled []uint32
	// stamp marks the nodes the current query reached (stamp == query+1).
	stamp []uint32
	// timers maps a node to the time of its scheduled Tick (dynamic
	// querying), for nodes that have one.
	timers map[int32]int64
}

func newNetwork(ids []query.PeerID, routers []*query.Router, lat Latency, seed uint64, loss float64, lossRng *rand.Rand) *network {
	return &network{
		ids: ids, routers: routers, lat: lat, seed: seed, loss: loss, lossRng: lossRng,
		handled: make([]uint32, len(ids)),
		stamp:   make([]uint32, len(ids)),
		timers:  make(map[int32]int64),
	}
}

// queryStats is what one query cost and found.
type queryStats struct {
	msgs, hitMsgs   int
	bytes, hitBytes int
	reached, dups   int
	found           []int32 // distinct holders whose copy reached the origin
	gotHit          bool
	firstAt         int64 // virtual ns from origination to the first hit
	firstHops       int   // links the first hit travelled (0: answered locally)
}

// job is one query to run: origin asks for file (hash target) with TTL ttl.
type job struct {
	n      uint32 // query number in the run, from 0
	origin int32
	guid   query.GUID
	q      *query.Query
	target content.Hash
	ttl    uint8
}

// peer returns the node index of a PeerID (its decimal form).
func peer(p query.PeerID) int32 {
	v, err := strconv.Atoi(string(p))
	if err != nil {
		panic("sim: foreign peer id " + string(p)) // only our own IDs are ever routed
	}
	return int32(v)
}

// run originates j at virtual time start, processes events until the
// network is quiet, and returns the query's statistics. The clock is left
// at the last event.
func (n *network) run(start int64, j job) queryStats {
	var st queryStats
	n.now = max(n.now, start)
	t0 := n.now
	n.stamp[j.origin] = j.n + 1 // the origin does not count as reached
	res := n.routers[j.origin].Originate(Epoch.Add(time.Duration(n.now)), j.guid, j.q, j.ttl)
	n.deliver(&st, j, t0, 0, res.Delivered)
	n.send(&st, j.origin, res.Send)
	n.schedule(j.origin)
	for n.queue.len() > 0 {
		e := n.queue.pop()
		n.now = e.at
		if e.d == nil {
			n.tick(&st, e.to)
			continue
		}
		n.handled[e.to]++
		res := n.routers[e.to].Handle(Epoch.Add(time.Duration(e.at)), n.ids[e.from], e.d)
		if e.d.Type == query.TypeQuery {
			if n.stamp[e.to] != j.n+1 {
				n.stamp[e.to] = j.n + 1
				st.reached++
			}
			if res.Drop == query.DropDuplicate {
				st.dups++
			}
		}
		if e.to == j.origin {
			n.deliver(&st, j, t0, -1, res.Delivered)
		}
		n.send(&st, e.to, res.Send)
		n.schedule(e.to)
	}
	return st
}

// schedule makes sure node v's router gets a Tick when its next dynamic
// query step is due.
func (n *network) schedule(v int32) {
	next, ok := n.routers[v].NextTick()
	if !ok {
		return
	}
	at := max(next.Sub(Epoch).Nanoseconds(), n.now)
	if t, has := n.timers[v]; has && t <= at {
		return
	}
	n.timers[v] = at
	n.seq++
	n.queue.push(event{at: at, seq: n.seq, to: v})
}

// tick runs node v's due dynamic query steps (a timer event); a timer
// superseded by an earlier one does nothing.
func (n *network) tick(st *queryStats, v int32) {
	if t, has := n.timers[v]; !has || t != n.now {
		return
	}
	delete(n.timers, v)
	res := n.routers[v].Tick(Epoch.Add(time.Duration(n.now)))
	n.send(st, v, res.Send)
	n.schedule(v)
}

// deliver records hits delivered to the origin. hops < 0: take them from
// each descriptor (links travelled = Hops+1).
func (n *network) deliver(st *queryStats, j job, t0 int64, hops int, ds []*query.Descriptor) {
	for _, d := range ds {
		useful := false
		for _, r := range d.Hit.Results {
			if r.Hash != j.target {
				continue
			}
			useful = true
			if h := peer(query.PeerID(d.Hit.Node)); !containsInt32(st.found, h) {
				st.found = append(st.found, h)
			}
		}
		if useful && !st.gotHit {
			st.gotHit = true
			st.firstAt = n.now - t0
			st.firstHops = hops
			if hops < 0 {
				st.firstHops = int(d.Hops) + 1
			}
		}
	}
}

// send schedules the deliveries of out from node from, counting every
// datagram sent (lost ones included).
func (n *network) send(st *queryStats, from int32, out []query.Outbound) {
	for _, o := range out {
		size := o.D.EncodedLen() + planeBytes
		if o.D.Type == query.TypeQuery {
			st.msgs++
			st.bytes += size
		} else {
			st.hitMsgs++
			st.hitBytes += size
		}
		if n.loss > 0 && n.lossRng.Float64() < n.loss {
			continue
		}
		to := peer(o.To)
		n.seq++
		n.queue.push(event{at: n.now + n.lat.link(n.seed, from, to), seq: n.seq, from: from, to: to, d: o.D})
	}
}

func containsInt32(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
