package overlay

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// memberlistLabel isolates servent's memberlist traffic from other clusters.
const memberlistLabel = "servent"

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
	c.TCPTimeout = n.cfg.StreamTimeout
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

// advertiseAddr is the address other members reach this node at.
func (n *Node) advertiseAddr() (netip.AddrPort, error) {
	local := n.LocalAddr()
	ip := n.cfg.Advertise
	if !ip.IsValid() {
		ip = local.Addr().Unmap()
	}
	if ip.IsUnspecified() {
		var err error
		if ip, err = pickInterfaceAddr(); err != nil {
			return netip.AddrPort{}, err
		}
	}
	return netip.AddrPortFrom(ip, local.Port()), nil
}

// errNoAddress: no usable IPv4 address to advertise.
var errNoAddress = errors.New("no usable IPv4 address on any up interface; set an advertise address")

// pickInterfaceAddr returns the first private IPv4 address of an up
// interface, else the first link-local one.
func pickInterfaceAddr() (netip.Addr, error) {
	var linkLocal netip.Addr
	for _, p := range interfacePrefixes() {
		a := p.Addr()
		if a.IsLinkLocalUnicast() {
			if !linkLocal.IsValid() {
				linkLocal = a
			}
			continue
		}
		return a, nil
	}
	if linkLocal.IsValid() {
		return linkLocal, nil
	}
	return netip.Addr{}, errNoAddress
}

// interfacePrefixes lists the IPv4 prefixes of up, non-loopback interfaces.
func interfacePrefixes() []netip.Prefix {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		out = append(out, ifacePrefixes(ifc)...)
	}
	return out
}

func ifacePrefixes(ifc net.Interface) []netip.Prefix {
	addrs, err := ifc.Addrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		ones, _ := ipn.Mask.Size()
		if ip.Is4() {
			out = append(out, netip.PrefixFrom(ip, ones))
		}
	}
	return out
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

// SetMeta publishes m; Fingerprint, Protocol and QUICPort are always the
// node's own, and a zero Started keeps the node's start time. After Start it
// gossips the update (memberlist UpdateNode, waiting up to 2 s). Blocks.
func (n *Node) SetMeta(m Meta) error {
	n.metaMu.Lock()
	old, _ := DecodeMeta(n.meta)
	m.Fingerprint = n.fp
	m.Protocol = ProtocolVersion
	if m.Started.IsZero() {
		m.Started = old.Started
	}
	if n.udp != nil {
		m.QUICPort = n.LocalAddr().Port()
	}
	n.meta = EncodeMeta(m)
	n.metaMu.Unlock()
	if n.ml == nil {
		return nil
	}
	if err := n.ml.UpdateNode(2 * time.Second); err != nil {
		return fmt.Errorf("publish metadata: %w", err)
	}
	return nil
}

// setQUICPort records the socket's port in the metadata before memberlist
// first publishes it.
func (n *Node) setQUICPort() {
	n.metaMu.Lock()
	defer n.metaMu.Unlock()
	m, _ := DecodeMeta(n.meta)
	m.QUICPort = n.LocalAddr().Port()
	n.meta = EncodeMeta(m)
}

// Join contacts addrs ("host:port") in parallel and merges their view; via
// (ViaSeed, ViaCache, ViaBeacon) is recorded in Stats. It returns the number
// of nodes contacted. When every peer refused our drill key the error wraps
// ErrDrillKey. Blocks up to Config.StreamTimeout per address.
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := n.ml.Join([]string{a})
			mu.Lock()
			defer mu.Unlock()
			ok += c
			if err != nil {
				errs = append(errs, joinError(a, err))
			}
		}()
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
		t := time.NewTimer(wait)
		select {
		case <-n.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, n.cfg.RejoinMax)
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
