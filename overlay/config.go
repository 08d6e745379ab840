package overlay

import (
	"cmp"
	"crypto/ed25519"
	"log/slog"
	"net/netip"
	"time"
)

// Config configures a Node. Start from DefaultConfig and override fields.
type Config struct {
	// Name is the unique memberlist node name. Empty: hostname + "-" + the
	// first 8 hex digits of the key fingerprint.
	Name string
	// Listen is the UDP address of the node's one socket, e.g. "[::]:6346"
	// (IPv4 and IPv6 on every interface).
	// Port 0 picks a free port.
	Listen string
	// Advertise is an extra candidate address published first, for routed
	// or NATed networks. Zero: only the socket's address when it is bound
	// to one, else every usable address of every up interface.
	Advertise netip.Addr
	// Key is the node's persistent key pair. Nil: an ephemeral key is generated.
	Key ed25519.PrivateKey
	// DrillKey is the shared drill passphrase. Empty: the network is open.
	DrillKey string
	// Seeds are "host:port" addresses joined at start and while alone.
	Seeds []string
	// CachedPeers are "host:port" addresses from the previous run's peer cache.
	CachedPeers []string
	// MembersOnlyDatagrams drops datagrams of planes other than memberlist's
	// whose source is not a current member.
	MembersOnlyDatagrams bool
	// PlaneQueue is the capacity of each datagram plane's delivery queue.
	PlaneQueue int
	// EventBuffer is the capacity of the Events channel.
	EventBuffer int

	// ProbeInterval, ProbeTimeout and SuspicionMult tune memberlist's failure
	// detector (see memberlist.Config).
	ProbeInterval time.Duration
	ProbeTimeout  time.Duration
	SuspicionMult int
	// GossipInterval is memberlist's gossip interval.
	GossipInterval time.Duration
	// PushPullInterval is memberlist's interval of full state exchanges
	// with a random member (scaled up above 32 members).
	PushPullInterval time.Duration
	// StreamTimeout bounds memberlist stream operations (push/pull, joins).
	StreamTimeout time.Duration

	// Discovery enables LAN beacons.
	Discovery bool
	// DiscoveryListen is the discovery-only UDP address beacons are received
	// on, e.g. "0.0.0.0:6347". Its port is also the destination port of beacons.
	DiscoveryListen string
	// BeaconTargets, when non-empty, replaces the per-interface broadcast and
	// multicast destinations (tests, unusual networks).
	BeaconTargets []netip.AddrPort
	// BeaconMin and BeaconMax bound the beacon interval: beacons start at
	// BeaconMin and back off to BeaconMax; the interval resets while alone.
	BeaconMin time.Duration
	BeaconMax time.Duration
	// RejoinMin and RejoinMax bound the retry interval for seeds and cached
	// peers while the node is alone.
	RejoinMin time.Duration
	RejoinMax time.Duration

	// Faults injects loss, duplication, delay and reordering into outgoing
	// datagrams of every plane but memberlist's (a testing aid).
	Faults Faults

	// Logger receives the node's logs. Nil: slog.Default().
	Logger *slog.Logger
}

// Default ports.
const (
	DefaultPort          = 6346
	DefaultDiscoveryPort = 6347
)

// DefaultConfig returns a LAN configuration: port 6346, discovery on 6347,
// faster failure detection than memberlist's LAN defaults.
func DefaultConfig() Config {
	return Config{
		Listen:               "[::]:6346",
		MembersOnlyDatagrams: true,
		PlaneQueue:           1024,
		EventBuffer:          256,
		ProbeInterval:        500 * time.Millisecond,
		ProbeTimeout:         300 * time.Millisecond,
		SuspicionMult:        3,
		GossipInterval:       200 * time.Millisecond,
		PushPullInterval:     30 * time.Second,
		StreamTimeout:        3 * time.Second,
		Discovery:            true,
		DiscoveryListen:      "0.0.0.0:6347", // and [::]:6347
		BeaconMin:            500 * time.Millisecond,
		BeaconMax:            10 * time.Second,
		RejoinMin:            2 * time.Second,
		RejoinMax:            30 * time.Second,
	}
}

// withDefaults returns c with DefaultConfig's value in every unset field,
// the beacon and rejoin maxima raised to their minima, and slog's default
// logger when none is given.
func (cfg Config) withDefaults() Config {
	def := DefaultConfig()
	cfg.Listen = cmp.Or(cfg.Listen, def.Listen)
	cfg.DiscoveryListen = cmp.Or(cfg.DiscoveryListen, def.DiscoveryListen)
	positiveOr(&cfg.PlaneQueue, def.PlaneQueue)
	positiveOr(&cfg.EventBuffer, def.EventBuffer)
	positiveOr(&cfg.ProbeInterval, def.ProbeInterval)
	positiveOr(&cfg.ProbeTimeout, def.ProbeTimeout)
	positiveOr(&cfg.SuspicionMult, def.SuspicionMult)
	positiveOr(&cfg.GossipInterval, def.GossipInterval)
	positiveOr(&cfg.PushPullInterval, def.PushPullInterval)
	positiveOr(&cfg.StreamTimeout, def.StreamTimeout)
	positiveOr(&cfg.BeaconMin, def.BeaconMin)
	if cfg.BeaconMax < cfg.BeaconMin {
		cfg.BeaconMax = max(def.BeaconMax, cfg.BeaconMin)
	}
	positiveOr(&cfg.RejoinMin, def.RejoinMin)
	if cfg.RejoinMax < cfg.RejoinMin {
		cfg.RejoinMax = max(def.RejoinMax, cfg.RejoinMin)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// positiveOr sets *v to def unless *v is positive.
func positiveOr[T ~int | ~int64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
