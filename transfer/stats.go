package transfer

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of a Server's counters.
type Stats struct {
	// Uploads counts file responses started (200 or 206).
	Uploads int64
	// Active is the number of uploads in progress now.
	Active int64
	// BytesSent counts file body bytes written, over all peers.
	BytesSent int64
	// Refused counts requests answered with an error status (busy included).
	Refused int64
	// Busy counts requests refused or queued because every upload slot
	// was taken.
	Busy int64
	// PartialUploads counts responses served from a download in
	// progress (swarming), a subset of Uploads; NotYet counts the 416
	// "not yet" answers about one (a subset of Refused).
	PartialUploads, NotYet int64
	// Connections counts the connections accepted.
	Connections int64
	// Superseded counts connections closed because their key connected
	// again while they were silent with requests in flight.
	Superseded int64
	// Serving is the number of peers holding an upload slot now, Queued
	// the number waiting for one, MaxServing the most ever served at once.
	Serving, Queued, MaxServing int
	// PerPeer maps a peer's address (host:port) to the file bytes sent to it.
	PerPeer map[string]int64
}

type stats struct {
	uploads, active, bytes, refused, busy atomic.Int64
	partialUploads, notYet, superseded    atomic.Int64
	connections                           atomic.Int64
	maxServing                            atomic.Int64

	mu      sync.Mutex
	perPeer map[string]int64
}

func (s *stats) sent(peer string, n int64) {
	s.bytes.Add(n)
	s.mu.Lock()
	s.perPeer[peer] += n
	s.mu.Unlock()
}

// slotStarted records that serving peers now hold a slot.
func (s *stats) slotStarted(serving int) {
	for {
		m := s.maxServing.Load()
		if int64(serving) <= m || s.maxServing.CompareAndSwap(m, int64(serving)) {
			return
		}
	}
}

// Stats returns a snapshot of the server's counters. Safe for concurrent use.
func (s *Server) Stats() Stats {
	s.stats.mu.Lock()
	peers := maps.Clone(s.stats.perPeer)
	s.stats.mu.Unlock()
	s.mu.Lock()
	serving, queued := s.queue.counts()
	s.mu.Unlock()
	return Stats{
		Serving:        serving,
		Queued:         queued,
		MaxServing:     int(s.stats.maxServing.Load()),
		Uploads:        s.stats.uploads.Load(),
		Active:         s.stats.active.Load(),
		BytesSent:      s.stats.bytes.Load(),
		Refused:        s.stats.refused.Load(),
		Busy:           s.stats.busy.Load(),
		PartialUploads: s.stats.partialUploads.Load(),
		NotYet:         s.stats.notYet.Load(),
		Superseded:     s.stats.superseded.Load(),
		Connections:    s.stats.connections.Load(),
		PerPeer:        peers,
	}
}
