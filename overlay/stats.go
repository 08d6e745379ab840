package overlay

import (
	"sync"
	"sync/atomic"
)

// Ways a node found its peers, as reported in Stats.JoinedVia.
const (
	ViaSeed     = "seed"
	ViaCache    = "cache"
	ViaBeacon   = "beacon"
	ViaIncoming = "incoming" // another node joined us first
)

type counters struct {
	mlIn, mlOut         atomic.Uint64
	mlDropped           atomic.Uint64
	droppedQueue        atomic.Uint64
	droppedUnknownPlane atomic.Uint64
	droppedOversize     atomic.Uint64
	droppedNonMember    atomic.Uint64
	droppedMalformed    atomic.Uint64
	droppedNoPath       atomic.Uint64
	droppedUnauth       atomic.Uint64
	droppedSend         atomic.Uint64
	eventsDropped       atomic.Uint64
	beaconsSent         atomic.Uint64
	beaconsIn           atomic.Uint64
	beaconsRejected     atomic.Uint64
	beaconsThrottled    atomic.Uint64
	beaconsWrongSource  atomic.Uint64
	beaconsStale        atomic.Uint64
	streamsRefused      atomic.Uint64

	joinMu    sync.Mutex
	joinedVia string
	joins     map[string]uint64
}

func (c *counters) joined(via string, count int) {
	c.joinMu.Lock()
	defer c.joinMu.Unlock()
	if c.joinedVia == "" {
		c.joinedVia = via
	}
	if c.joins == nil {
		c.joins = make(map[string]uint64)
	}
	c.joins[via] += uint64(count)
}

// PlaneStats counts one datagram plane.
type PlaneStats struct {
	In      uint64 // accepted from the socket
	Out     uint64 // sent
	Dropped uint64 // delivery queue full
}

// Stats is a snapshot of the node's counters.
type Stats struct {
	Planes map[byte]PlaneStats // by plane byte, memberlist's included
	// Datagram drops before any plane queue. DroppedQUICQueue counts
	// datagrams quic-go dropped because its 32-entry non-QUIC queue was full.
	DroppedQUICQueue    uint64
	DroppedUnknownPlane uint64
	DroppedOversize     uint64 // refused by SendDatagram
	DroppedNonMember    uint64 // MembersOnlyDatagrams filter
	DroppedMalformed    uint64
	DroppedNoPath       uint64 // no connection to the member could be made in time
	// DroppedUnauthenticated counts raw UDP datagrams on a plane that
	// travels only inside QUIC connections (the query plane): their source
	// address proves nothing.
	DroppedUnauthenticated uint64
	DroppedSend            uint64 // refused by QUIC (congestion, connection closing)
	EventsDropped          uint64 // Events channel full
	BeaconsSent            uint64
	BeaconsIn              uint64 // valid beacons received
	BeaconsRejected        uint64 // undecodable, another version or bad MAC
	// BeaconsWrongSource counts keyed beacons from an address their sender
	// does not list, BeaconsStale those outside the time window: replays.
	BeaconsWrongSource uint64
	BeaconsStale       uint64
	BeaconsThrottled   uint64 // valid, but over the beacon-driven join rate
	StreamsRefused     uint64 // memberlist streams with the wrong drill key
	// JoinedVia is how the node first found a peer (ViaSeed, ViaCache,
	// ViaBeacon, ViaIncoming), "" while alone; Joins counts successful joins
	// (nodes contacted) per way.
	JoinedVia string
	Joins     map[string]uint64
}

// Stats returns a snapshot of the counters. Safe for concurrent use.
func (n *Node) Stats() Stats {
	s := Stats{
		Planes: map[byte]PlaneStats{PlaneMemberlist: {
			In: n.stats.mlIn.Load(), Out: n.stats.mlOut.Load(), Dropped: n.stats.mlDropped.Load(),
		}},
		DroppedQUICQueue:       n.stats.droppedQueue.Load(),
		DroppedUnknownPlane:    n.stats.droppedUnknownPlane.Load(),
		DroppedOversize:        n.stats.droppedOversize.Load(),
		DroppedNonMember:       n.stats.droppedNonMember.Load(),
		DroppedMalformed:       n.stats.droppedMalformed.Load(),
		DroppedNoPath:          n.stats.droppedNoPath.Load(),
		DroppedUnauthenticated: n.stats.droppedUnauth.Load(),
		DroppedSend:            n.stats.droppedSend.Load(),
		EventsDropped:          n.stats.eventsDropped.Load(),
		BeaconsSent:            n.stats.beaconsSent.Load(),
		BeaconsIn:              n.stats.beaconsIn.Load(),
		BeaconsRejected:        n.stats.beaconsRejected.Load(),
		BeaconsThrottled:       n.stats.beaconsThrottled.Load(),
		BeaconsWrongSource:     n.stats.beaconsWrongSource.Load(),
		BeaconsStale:           n.stats.beaconsStale.Load(),
		StreamsRefused:         n.stats.streamsRefused.Load(),
		Joins:                  make(map[string]uint64),
	}
	for id, p := range n.planes {
		s.Planes[id] = PlaneStats{In: p.in.Load(), Out: p.out.Load(), Dropped: p.dropped.Load()}
	}
	n.stats.joinMu.Lock()
	s.JoinedVia = n.stats.joinedVia
	if s.JoinedVia == "" && n.members.count() > 1 {
		s.JoinedVia = ViaIncoming
	}
	for k, v := range n.stats.joins {
		s.Joins[k] = v
	}
	n.stats.joinMu.Unlock()
	return s
}
