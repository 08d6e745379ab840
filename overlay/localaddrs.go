package overlay

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// localAddr is one unicast address of an up, non-loopback interface.
type localAddr struct {
	Addr  netip.Addr // link-local IPv6 addresses carry the interface as zone
	Bits  int        // prefix length
	Iface string
	Index int
}

// localAddrs lists the usable unicast addresses of every up, non-loopback
// interface: IPv4 and IPv6, global, private, ULA and link-local. Multicast,
// unspecified and tentative-looking (loopback) addresses are left out.
func localAddrs() []localAddr {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []localAddr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		out = append(out, ifaceAddrs(ifc)...)
	}
	return out
}

func ifaceAddrs(ifc net.Interface) []localAddr {
	addrs, err := ifc.Addrs()
	if err != nil {
		return nil
	}
	var out []localAddr
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
		if !usableUnicast(ip) {
			continue
		}
		if ip.Is6() && ip.IsLinkLocalUnicast() {
			ip = ip.WithZone(ifc.Name)
		}
		ones, _ := ipn.Mask.Size()
		out = append(out, localAddr{Addr: ip, Bits: ones, Iface: ifc.Name, Index: ifc.Index})
	}
	return out
}

// usableUnicast reports whether a can name this host to a LAN neighbour.
func usableUnicast(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() &&
		!a.IsInterfaceLocalMulticast() && !standInPrefix.Contains(a.WithZone(""))
}

// sameAddrs reports whether two interface snapshots hold the same addresses.
func sameAddrs(a, b []localAddr) bool {
	return slices.EqualFunc(a, b, func(x, y localAddr) bool { return x.Addr == y.Addr && x.Iface == y.Iface })
}

// describeInterfaces says, for a log line, what the interfaces hold, e.g.
// "eth0 up: 10.77.0.1/24 fe80::1/64; wlan0 down".
func describeInterfaces() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return "interfaces unreadable: " + err.Error()
	}
	var parts []string
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		if ifc.Flags&net.FlagUp == 0 {
			parts = append(parts, ifc.Name+" down")
			continue
		}
		var as []string
		for _, a := range ifaceAddrs(ifc) {
			as = append(as, fmt.Sprintf("%s/%d", a.Addr.WithZone(""), a.Bits))
		}
		if len(as) == 0 {
			parts = append(parts, ifc.Name+" up, no address")
			continue
		}
		parts = append(parts, ifc.Name+" up: "+strings.Join(as, " "))
	}
	if len(parts) == 0 {
		return "no network interface except loopback"
	}
	return strings.Join(parts, "; ")
}
