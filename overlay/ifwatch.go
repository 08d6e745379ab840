package overlay

import (
	"net/netip"
	"slices"
	"time"
)

// How often the node re-reads its interfaces. Where the kernel notifies
// changes (Linux) a Wi-Fi that joins, a cable plugged in or DHCP answering
// late is seen at once and the poll is a safety net; elsewhere it is seen
// within interfacePoll.
const (
	interfacePoll    = 2 * time.Second
	interfaceRecheck = 30 * time.Second
)

// localAddrs returns this host's addresses as last read.
func (n *Node) localAddrs() []localAddr {
	n.localMu.Lock()
	defer n.localMu.Unlock()
	return n.locals
}

// refreshLocalAddrs re-reads the interfaces and reports whether the
// addresses changed.
func (n *Node) refreshLocalAddrs() bool {
	now := localAddrs()
	n.localMu.Lock()
	defer n.localMu.Unlock()
	if sameAddrs(now, n.locals) {
		return false
	}
	n.locals = now
	return true
}

// listenIP is the IP the node's socket is bound to (unspecified for the
// wildcard).
func (n *Node) listenIP() netip.Addr {
	if n.udp == nil {
		return netip.Addr{}
	}
	return n.LocalAddr().Addr().Unmap()
}

// Addrs returns the addresses this node publishes in its metadata for
// others to try (no zones): the advertise override first, then the
// socket's own address when it is bound to one, else every usable address
// of every up interface (routable ones before link-local ones). Safe for
// concurrent use.
func (n *Node) Addrs() []netip.Addr {
	var out []netip.Addr
	add := func(a netip.Addr) {
		a = a.WithZone("")
		if a.IsValid() && !slices.Contains(out, a) && len(out) < maxMetaAddrs {
			out = append(out, a)
		}
	}
	add(n.cfg.Advertise)
	if ip := n.listenIP(); ip.IsValid() && !ip.IsUnspecified() {
		add(ip)
		return out
	}
	locals := n.localAddrs()
	for _, linkLocal := range []bool{false, true} {
		for _, l := range locals {
			if l.Addr.IsLinkLocalUnicast() == linkLocal && n.listenFamilyHas(l.Addr) {
				add(l.Addr)
			}
		}
	}
	return out
}

// listenFamilyHas reports whether the socket can use a: an IPv4-only
// socket cannot reach IPv6 addresses.
func (n *Node) listenFamilyHas(a netip.Addr) bool {
	ip := n.listenIP()
	return !ip.Is4() || a.Is4()
}

// watchInterfaces re-reads the interfaces when the kernel reports a
// change and every interfaceRecheck, or every interfacePoll without
// reports; when the addresses change it republishes them, refreshes
// discovery's multicast groups and beacons at once. It warns while there
// is no usable address.
func (n *Node) watchInterfaces() {
	n.checkAddresses()
	changes, stop := interfaceChanges()
	defer stop()
	every := interfacePoll
	if changes != nil {
		every = interfaceRecheck
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		case <-changes:
		}
		if !n.refreshLocalAddrs() {
			continue
		}
		n.log.Info("network interfaces changed", "interfaces", describeInterfaces())
		n.checkAddresses()
		if err := n.republishAddrs(); err != nil {
			n.log.Debug("republishing addresses", "err", err)
		}
		if n.dsc != nil {
			n.dsc.interfacesChanged()
		}
	}
}

// checkAddresses warns when this node has nothing to publish, or when the
// advertise override is not an address of this host.
func (n *Node) checkAddresses() {
	if ip := n.listenIP(); ip.IsValid() && !ip.IsUnspecified() {
		return
	}
	locals := n.localAddrs()
	if len(locals) == 0 {
		n.log.Warn("no usable address on any up interface; waiting for one (plug a cable, join a Wi-Fi, or bring an interface up)",
			"interfaces", describeInterfaces())
	}
	if a := n.cfg.Advertise; a.IsValid() && !slices.ContainsFunc(locals, func(l localAddr) bool { return l.Addr.WithZone("") == a.WithZone("") }) {
		n.log.Warn("advertise address is not on this host: others will try it, then this host's own addresses",
			"advertise", a, "interfaces", describeInterfaces())
	}
}
