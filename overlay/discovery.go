package overlay

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/time/rate"
)

// Beacon groups: beacons are sent to these multicast groups on the
// discovery port, on every interface, besides IPv4 broadcasts.
var (
	// BeaconGroup is the IPv4 group (organisation-local scope).
	BeaconGroup = netip.MustParseAddr("239.192.63.46")
	// BeaconGroup6 is the IPv6 link-local scope group: on a LAN without
	// DHCP, hosts have only IPv6 link-local addresses, and this is how they
	// find each other.
	BeaconGroup6 = netip.MustParseAddr("ff02::5365:7276")
)

// discovery sends and receives LAN beacons on the discovery-only UDP port
// (one IPv4 and one IPv6 socket) and joins the senders it does not know yet.
type discovery struct {
	n     *Node
	v4    *net.UDPConn // nil when IPv4 is unavailable
	v6    *net.UDPConn // nil when IPv6 is unavailable
	p4    *ipv4.PacketConn
	p6    *ipv6.PacketConn
	port  uint16
	joinQ chan netip.AddrPort // stand-ins of beacon senders to join
	kick  chan struct{}       // beacon now: the interfaces changed

	mu        sync.Mutex
	tried     recentSet[NodeID]     // keys joined lately
	triedAddr recentSet[netip.Addr] // source addresses joined lately
	joinRate  *rate.Limiter
	joined    map[string]bool // "4/eth0", "6/eth0": groups joined

	warnLog rate.Sometimes // beacons of another version or clock, repeated every few seconds
}

func (n *Node) newDiscovery() (*discovery, error) {
	listen, err := netip.ParseAddrPort(n.cfg.DiscoveryListen)
	if err != nil {
		return nil, fmt.Errorf("discovery address %q: %w", n.cfg.DiscoveryListen, err)
	}
	d := &discovery{
		n:         n,
		port:      listen.Port(),
		joinQ:     make(chan netip.AddrPort, 16),
		kick:      make(chan struct{}, 1),
		tried:     newRecentSet[NodeID](),
		triedAddr: newRecentSet[netip.Addr](),
		joinRate:  rate.NewLimiter(beaconJoinRate, beaconJoinBurst),
		joined:    make(map[string]bool),
		warnLog:   rate.Sometimes{First: 3, Interval: time.Minute},
	}
	ip := listen.Addr().Unmap()
	var errs []error
	if ip.Is4() {
		if d.v4, err = listenDiscovery(n, "udp4", netip.AddrPortFrom(ip, d.port)); err != nil {
			errs = append(errs, err)
		} else {
			d.p4 = ipv4.NewPacketConn(d.v4)
		}
	}
	if ip.IsUnspecified() || ip.Is6() {
		at := netip.AddrPortFrom(netip.IPv6Unspecified(), d.port)
		if ip.Is6() {
			at = netip.AddrPortFrom(ip, d.port)
		}
		if d.v6, err = listenDiscovery(n, "udp6", at); err != nil {
			errs = append(errs, err)
		} else {
			d.p6 = ipv6.NewPacketConn(d.v6)
		}
	}
	if d.v4 == nil && d.v6 == nil {
		return nil, errors.Join(errs...)
	}
	if len(errs) > 0 {
		n.log.Info("discovery on one address family only", "err", errors.Join(errs...))
	}
	if d.port == 0 {
		d.port = d.anyConn().LocalAddr().(*net.UDPAddr).AddrPort().Port()
	}
	d.joinGroups()
	return d, nil
}

func listenDiscovery(n *Node, network string, at netip.AddrPort) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: discoveryControl}
	pc, err := lc.ListenPacket(n.ctx, network, at.String())
	if err != nil {
		return nil, fmt.Errorf("listen %s %s: %w", network, at, err)
	}
	return pc.(*net.UDPConn), nil
}

func (d *discovery) anyConn() *net.UDPConn {
	if d.v4 != nil {
		return d.v4
	}
	return d.v6
}

func (d *discovery) close() error {
	var errs []error
	for _, c := range []*net.UDPConn{d.v4, d.v6} {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// joinGroups joins the beacon groups on every multicast interface not
// joined yet (interfaces appear while the node runs). Explicit beacon
// targets (tests, unusual networks) replace multicast.
func (d *discovery) joinGroups() {
	if len(d.n.cfg.BeaconTargets) > 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ifc := range beaconInterfaces() {
		if ifc.Flags&net.FlagMulticast == 0 {
			continue
		}
		if d.p4 != nil && !d.joined["4/"+ifc.Name] {
			if err := d.p4.JoinGroup(&ifc, &net.UDPAddr{IP: BeaconGroup.AsSlice()}); err == nil {
				d.joined["4/"+ifc.Name] = true
			} else {
				d.n.log.Debug("multicast join failed", "iface", ifc.Name, "err", err)
			}
		}
		if d.p6 != nil && !d.joined["6/"+ifc.Name] {
			if err := d.p6.JoinGroup(&ifc, &net.UDPAddr{IP: BeaconGroup6.AsSlice()}); err == nil {
				d.joined["6/"+ifc.Name] = true
			} else {
				d.n.log.Debug("IPv6 multicast join failed", "iface", ifc.Name, "err", err)
			}
		}
	}
}

// interfacesChanged re-joins the groups and beacons at once.
func (d *discovery) interfacesChanged() {
	d.mu.Lock()
	clear(d.joined) // an interface that went down and up lost its groups
	d.mu.Unlock()
	d.joinGroups()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// run sends beacons until the node closes; it also runs the receivers and
// the joiner.
func (d *discovery) run() {
	for _, c := range []*net.UDPConn{d.v4, d.v6} {
		if c != nil {
			d.n.goroutine(func() { d.receive(c) })
		}
	}
	d.n.goroutine(d.joiner)
	cfg := d.n.cfg
	aloneCap := max(cfg.BeaconMin, min(cfg.BeaconMax, 2*time.Second))
	wait := cfg.BeaconMin
	for {
		d.sendBeacons()
		t := time.NewTimer(wait)
		select {
		case <-d.n.ctx.Done():
			t.Stop()
			return
		case <-d.kick:
			t.Stop()
			wait = cfg.BeaconMin
			continue
		case <-t.C:
		}
		wait = min(2*wait, cfg.BeaconMax)
		if d.n.NumMembers() <= 1 {
			wait = min(wait, aloneCap)
		}
	}
}

func (d *discovery) receive(c *net.UDPConn) {
	buf := make([]byte, 1500)
	for {
		sz, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || d.n.ctx.Err() != nil {
				return
			}
			continue
		}
		b, err := decodeBeacon(buf[:sz], d.n.keys)
		if err != nil {
			d.n.stats.beaconsRejected.Add(1)
			if errors.Is(err, errBeaconVersion) {
				d.warnLog.Do(func() { d.n.log.Warn("beacon refused", "from", from, "err", err) })
			}
			continue
		}
		id := IDOf(b.Fingerprint)
		if id == d.n.id || d.n.leaving.Load() {
			continue
		}
		if err := b.check(from.Addr(), time.Now(), d.n.keys.set); err != nil {
			if errors.Is(err, errBeaconStale) {
				d.n.stats.beaconsStale.Add(1)
				d.warnLog.Do(func() { d.n.log.Warn("beacon dropped", "from", from, "name", b.Name, "err", err) })
			} else {
				d.n.stats.beaconsWrongSource.Add(1)
				d.n.log.Debug("beacon dropped", "from", from, "err", err)
			}
			continue
		}
		d.n.stats.beaconsIn.Add(1)
		// Only a member's beacon, or one admitted for a join, is noted: a
		// flood of beacons naming made-up keys must not fill the path
		// table (each insertion into a full one scans it).
		_, member := d.n.members.lookupID(id)
		if !member && !d.shouldTry(id, from.Addr().Unmap(), time.Now()) {
			continue
		}
		// The source, zoned by the interface it came in on, is a path
		// candidate for the key the beacon names.
		d.n.paths.hint(id, b.Fingerprint, netip.AddrPortFrom(from.Addr().Unmap(), b.Port), time.Now())
		if member {
			continue
		}
		select {
		case d.joinQ <- StandIn(id, b.Port):
		default:
		}
	}
}
