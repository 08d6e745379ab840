package query

import "time"

// PeerID names a member: its unique node name.
type PeerID string

// Mode is the network-wide routing strategy.
type Mode uint8

// Routing modes. Smart is the default.
const (
	// Smart (Gnutella 0.6): leaves send to their ultrapeers only; ultrapeers
	// answer for themselves and their leaves and flood among ultrapeers.
	Smart Mode = iota
	// Flood (Gnutella 0.4): every node answers from its own shares and floods
	// to its flood neighbours.
	Flood
)

// Config configures a Router. Zero fields take the defaults of DefaultConfig,
// except booleans.
type Config struct {
	// Self is this node's member name.
	Self PeerID
	// Mode is the routing strategy (default Smart).
	Mode Mode
	// MaxTTL caps TTL+hops (default 7); above it a descriptor is invalid.
	MaxTTL uint8
	// DefaultTTL is used by Originate when it is given TTL 0 (default MaxTTL).
	DefaultTTL uint8
	// DupCacheSize bounds the query GUIDs remembered for duplicate suppression
	// and reverse-path routing (default 4096).
	DupCacheSize int
	// DupCacheAge is how long a query GUID is remembered (default 2 minutes);
	// hits arriving later are dropped as unknown.
	DupCacheAge time.Duration
	// LastHopQRP: in smart mode, a query forwarded with TTL 1 goes only to
	// ultrapeer neighbours whose QRP table matches it (or that sent none).
	LastHopQRP bool
	// QueryRate and QueryBurst: the per-origin token bucket (queries per
	// second, bucket size) for the queries a peer issues itself: those
	// from a leaf (whose queries enter the network here) and those with
	// hops 0. QueryRate 0 disables the limit; QueryBurst 0 means
	// Burst(QueryRate). Queries a neighbour forwards for others are
	// limited per link instead (SetLinkLimit).
	QueryRate  float64
	QueryBurst int
	// Dynamic configures dynamic querying (off unless Dynamic.On).
	Dynamic DynamicConfig
}

// DefaultConfig returns the defaults: smart mode, MaxTTL 7, DefaultTTL 7, a
// 4096-entry 2-minute duplicate cache, last-hop QRP on, 20 queries/s per peer
// with a burst of Burst(20) = 80 (configs/servent.yaml's query_rate).
func DefaultConfig(self PeerID) Config {
	return Config{
		Self:         self,
		Mode:         Smart,
		MaxTTL:       7,
		DefaultTTL:   7,
		DupCacheSize: 4096,
		DupCacheAge:  2 * time.Minute,
		LastHopQRP:   true,
		QueryRate:    20,
		QueryBurst:   Burst(20),
		Dynamic:      DefaultDynamicConfig(),
	}
}
