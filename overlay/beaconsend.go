package overlay

import (
	"net"
	"net/netip"
	"time"
)

// beaconInterfaces lists the up, non-loopback interfaces.
func beaconInterfaces() []net.Interface {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []net.Interface
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagLoopback == 0 {
			out = append(out, ifc)
		}
	}
	return out
}

// directedBroadcast returns the broadcast address of an IPv4 prefix.
func directedBroadcast(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	bits := p.Bits()
	for i := range 4 {
		for b := range 8 {
			if i*8+b >= bits {
				a[i] |= 0x80 >> b
			}
		}
	}
	return netip.AddrFrom4(a)
}

// sendBeacons announces the node on every up interface: IPv4 limited and
// directed broadcast and the IPv4 group, and the IPv6 link-local group
// with the interface as zone.
func (d *discovery) sendBeacons() {
	if d.n.leaving.Load() {
		return
	}
	msg := encodeBeacon(beacon{
		Version:     beaconVersion,
		Port:        d.n.LocalAddr().Port(),
		Fingerprint: d.n.fp,
		Name:        d.n.name,
		Time:        time.Now(),
		Addrs:       d.n.Addrs(),
	}, d.n.keys)
	if len(d.n.cfg.BeaconTargets) > 0 {
		for _, t := range d.n.cfg.BeaconTargets {
			d.send(msg, t)
		}
		return
	}
	d.send(msg, netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), d.port))
	for _, ifc := range beaconInterfaces() {
		addrs := ifaceAddrs(ifc)
		has6 := false
		for _, a := range addrs {
			if a.Addr.Is6() {
				has6 = true
				continue
			}
			if ifc.Flags&net.FlagBroadcast != 0 && a.Bits < 32 {
				d.send(msg, netip.AddrPortFrom(directedBroadcast(netip.PrefixFrom(a.Addr, a.Bits)), d.port))
			}
		}
		if ifc.Flags&net.FlagMulticast == 0 {
			continue
		}
		if d.p4 != nil && len(addrs) > 0 && !has6Only(addrs) {
			if err := d.p4.SetMulticastInterface(&ifc); err == nil {
				d.send(msg, netip.AddrPortFrom(BeaconGroup, d.port))
			}
		}
		if d.p6 != nil && has6 {
			d.send(msg, netip.AddrPortFrom(BeaconGroup6.WithZone(ifc.Name), d.port))
		}
	}
}

// has6Only reports whether every address is IPv6.
func has6Only(addrs []localAddr) bool {
	for _, a := range addrs {
		if a.Addr.Is4() {
			return false
		}
	}
	return true
}

func (d *discovery) send(msg []byte, to netip.AddrPort) {
	c := d.v4
	if to.Addr().Is6() && !to.Addr().Is4In6() {
		c = d.v6
	}
	if c == nil {
		return
	}
	if _, err := c.WriteToUDPAddrPort(msg, to); err != nil {
		// No route (no default gateway on a link-local LAN) is expected.
		d.n.log.Debug("beacon send failed", "to", to, "err", err)
		return
	}
	d.n.stats.beaconsSent.Add(1)
}
