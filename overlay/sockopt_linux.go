package overlay

import (
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// discoveryControl lets several nodes on one host share the discovery port
// and allows sending broadcasts.
func discoveryControl(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		for _, opt := range []int{unix.SO_REUSEADDR, unix.SO_REUSEPORT, unix.SO_BROADCAST} {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, 1); serr != nil {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// joinGroup joins the IPv4 multicast group on the interface with index ifindex.
func joinGroup(c syscall.RawConn, group netip.Addr, ifindex int) error {
	return mreqn(c, unix.IP_ADD_MEMBERSHIP, group, ifindex)
}

// setMulticastIf selects the interface multicast datagrams leave through.
func setMulticastIf(c syscall.RawConn, ifindex int) error {
	return mreqn(c, unix.IP_MULTICAST_IF, netip.Addr{}, ifindex)
}

func mreqn(c syscall.RawConn, opt int, group netip.Addr, ifindex int) error {
	m := &unix.IPMreqn{Ifindex: int32(ifindex)}
	if group.Is4() {
		m.Multiaddr = group.As4()
	}
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptIPMreqn(int(fd), unix.IPPROTO_IP, opt, m)
	})
	if err != nil {
		return err
	}
	return serr
}
