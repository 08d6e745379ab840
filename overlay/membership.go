package overlay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// memberlistLabel isolates servent's memberlist traffic from other clusters
// and from other protocol versions (memberlist drops a packet or stream
// with another label).
const memberlistLabel = "servent/2"

func (n *Node) startMemberlist() error {
	c := memberlist.DefaultLANConfig()
	c.Name = n.name
	c.Label = memberlistLabel
	c.Transport = n.mlt
	c.Delegate = metaDelegate{n}
	c.Events = eventDelegate{n}
	c.ProbeInterval = n.cfg.ProbeInterval
	c.ProbeTimeout = n.cfg.ProbeTimeout
	c.SuspicionMult = n.cfg.SuspicionMult
	c.GossipInterval = n.cfg.GossipInterval
	c.PushPullInterval = n.cfg.PushPullInterval
	c.TCPTimeout = n.cfg.StreamTimeout
	// No LZW on a LAN: compressing each gossip packet allocated a fresh
	// 16 KiB table and was the largest single CPU cost of a converging
	// node; receivers decode compressed and plain messages alike.
	c.EnableCompression = false
	c.Logger = slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)
	if n.keys.set {
		c.SecretKey = n.keys.mlKey
	}
	ml, err := memberlist.Create(c)
	if err != nil {
		return fmt.Errorf("memberlist: %w", err)
	}
	n.ml = ml
	return nil
}

// metaDelegate publishes the node metadata.
type metaDelegate struct{ n *Node }

var _ memberlist.Delegate = metaDelegate{}

func (d metaDelegate) NodeMeta(limit int) []byte {
	d.n.metaMu.Lock()
	defer d.n.metaMu.Unlock()
	if len(d.n.meta) > limit {
		return nil
	}
	return d.n.meta
}
func (metaDelegate) NotifyMsg([]byte)                {}
func (metaDelegate) GetBroadcasts(int, int) [][]byte { return nil }
func (metaDelegate) LocalState(bool) []byte          { return nil }
func (metaDelegate) MergeRemoteState([]byte, bool)   {}

// Meta returns the metadata this node publishes.
func (n *Node) Meta() Meta {
	n.metaMu.Lock()
	defer n.metaMu.Unlock()
	m, _ := DecodeMeta(n.meta)
	return m
}

// SetMeta publishes m; Fingerprint, Protocol, QUICPort and Addrs are always
// the node's own, and a zero Started keeps the node's start time. After
// Start it gossips the update (memberlist UpdateNode, waiting up to 2 s)
// and, when more than the share count changed, pushes it to a few members
// soon after (announceLoop). Blocks.
func (n *Node) SetMeta(m Meta) error {
	return n.updateMeta(func(old Meta) Meta {
		if m.Started.IsZero() {
			m.Started = old.Started
		}
		return m
	})
}

// ownMeta fills in the fields of m that only the node itself knows.
func (n *Node) ownMeta(m Meta) Meta {
	m.Fingerprint = n.fp
	m.Protocol = ProtocolVersion
	if n.udp != nil {
		m.QUICPort = n.LocalAddr().Port()
	}
	m.Addrs = n.Addrs()
	return m
}

// republishAddrs refreshes the addresses in the metadata and publishes them.
func (n *Node) republishAddrs() error {
	return n.updateMeta(func(old Meta) Meta { return old })
}

// updateMeta replaces the metadata by f(old) with the node's own fields
// (ownMeta) and publishes it: gossip (memberlist UpdateNode, waiting up to
// 2 s for its retransmissions), and a push to a few members when more than
// the share count changed (announceLoop).
func (n *Node) updateMeta(f func(Meta) Meta) error {
	n.metaMu.Lock()
	old, _ := DecodeMeta(n.meta)
	m := n.ownMeta(f(old))
	n.meta = EncodeMeta(m)
	n.metaMu.Unlock()
	if n.ml == nil {
		return nil
	}
	if changedBeyondShares(old, m) {
		select {
		case n.announce <- struct{}{}:
		default: // a push is pending; it will carry this change too
		}
	}
	if err := n.ml.UpdateNode(2 * time.Second); err != nil {
		return fmt.Errorf("publish metadata: %w", err)
	}
	return nil
}

// Join contacts addrs ("host:port", a member's stand-in, or an IPv6
// link-local "[fe80::1%eth0]:6346") in parallel and merges their view; via
// (ViaSeed, ViaCache, ViaBeacon) is recorded in Stats. A real address is
// first dialled to learn the key of the node there; memberlist then joins
// that node's stand-in. It returns the number of nodes contacted. When
// every peer refused our drill key the error wraps ErrDrillKey. Blocks up
// to Config.StreamTimeout per address.
func (n *Node) Join(addrs []string, via string) (int, error) {
	if n.ml == nil {
		return 0, ErrNotStarted
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ok   int
		errs []error
	)
	for _, a := range addrs {
		wg.Go(func() {
			c, err := n.joinOne(a)
			mu.Lock()
			defer mu.Unlock()
			ok += c
			if err != nil {
				errs = append(errs, joinError(a, err))
			}
		})
	}
	wg.Wait()
	if ok > 0 {
		n.stats.joined(via, ok)
		return ok, nil
	}
	if len(errs) == 0 {
		return 0, nil
	}
	return 0, errors.Join(errs...)
}

// errJoinSelf: the address to join is this node's own.
var errJoinSelf = errors.New("that address is this node")

func (n *Node) joinOne(addr string) (int, error) {
	ap, err := resolveAddrPort(addr)
	if err != nil {
		return 0, err
	}
	if _, ok := StandInID(ap); !ok {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.StreamTimeout)
		_, id, err := n.mlt.dialAddr(ctx, ap)
		cancel()
		if err != nil {
			return 0, err
		}
		if id == n.id {
			return 0, errJoinSelf
		}
		ap = StandIn(id, ap.Port())
	}
	return n.ml.Join([]string{ap.String()})
}

// joinError turns memberlist's flattened error text back into ErrDrillKey
// where the peer refused the key.
func joinError(addr string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, ErrDrillKey.Error()):
		return fmt.Errorf("join %s: %w", addr, ErrDrillKey)
	case strings.Contains(msg, "No installed keys could decrypt"),
		strings.Contains(msg, "encryption is not configured"),
		strings.Contains(msg, "remote state is not encrypted"):
		return fmt.Errorf("join %s: %w (%v)", addr, ErrDrillKey, err)
	}
	return fmt.Errorf("join %s: %w", addr, err)
}

// rejoinLoop joins seeds and cached peers at start, then again while alone,
// backing off from RejoinMin to RejoinMax.
func (n *Node) rejoinLoop() {
	if len(n.cfg.Seeds) == 0 && len(n.cfg.CachedPeers) == 0 {
		return
	}
	wait := n.cfg.RejoinMin
	for {
		if n.NumMembers() <= 1 && !n.leaving.Load() {
			n.joinConfigured()
		} else {
			wait = n.cfg.RejoinMin
		}
		if !n.sleep(wait) {
			return
		}
		wait = min(2*wait, n.cfg.RejoinMax)
	}
}

// sleep waits for d and reports true, or reports false as soon as the node
// stops.
func (n *Node) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-n.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (n *Node) joinConfigured() {
	for _, src := range []struct {
		via   string
		addrs []string
	}{{ViaSeed, n.cfg.Seeds}, {ViaCache, n.cfg.CachedPeers}} {
		if len(src.addrs) == 0 || n.ctx.Err() != nil {
			continue
		}
		c, err := n.Join(src.addrs, src.via)
		if errors.Is(err, errJoinSelf) {
			err = nil
		}
		if c > 0 {
			n.log.Info("joined", "via", src.via, "contacted", c, "members", n.NumMembers())
			return
		}
		if errors.Is(err, ErrDrillKey) {
			n.log.Error("join refused", "via", src.via, "err", err)
		} else if err != nil {
			n.log.Debug("join failed", "via", src.via, "err", err)
		}
	}
}
