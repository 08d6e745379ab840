package web

import (
	"cmp"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"

	"github.com/mdp/qrterminal/v3"
)

// URLs returns the page's address for every LAN address of the host: when
// bound to a specific IP, that IP only; when bound to an unspecified
// address, every IPv4 of every up, non-loopback interface (private ones
// first, link-local last), or the loopback one if there is no other.
// It returns nil before Start. Safe for concurrent use.
func (s *Server) URLs() []string {
	addr := s.Addr()
	if !addr.IsValid() {
		return nil
	}
	if !addr.Addr().IsUnspecified() {
		return []string{pageURL(addr)}
	}
	var urls []string
	for _, ip := range lanAddrs() {
		urls = append(urls, pageURL(netip.AddrPortFrom(ip, addr.Port())))
	}
	if len(urls) == 0 {
		urls = append(urls, pageURL(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), addr.Port())))
	}
	return urls
}

func pageURL(ap netip.AddrPort) string {
	return "http://" + ap.String() + "/"
}

// lanAddrs lists the IPv4 addresses of the up, non-loopback interfaces.
func lanAddrs() []netip.Addr {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pfx.Addr().Unmap()
			if ip.Is4() && !ip.IsLoopback() && !slices.Contains(out, ip) {
				out = append(out, ip)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b netip.Addr) int {
		return cmp.Compare(addrRank(a), addrRank(b))
	})
	return out
}

// addrRank orders addresses for people: private LAN ones first, then
// others, link-local (no DHCP) last.
func addrRank(ip netip.Addr) int {
	switch {
	case ip.IsPrivate():
		return 0
	case ip.IsLinkLocalUnicast():
		return 2
	}
	return 1
}

// PrintBanner writes the page's URLs, its passphrase and a QR code of the
// login link (LoginURL), drawn with half blocks, for a phone to scan from
// the terminal.
func (s *Server) PrintBanner(w io.Writer) {
	urls := s.URLs()
	if len(urls) == 0 {
		return
	}
	fmt.Fprintln(w, "Phone page: open one of these on a phone on the same network (or scan the code):")
	for _, u := range urls {
		fmt.Fprintln(w, "  "+u)
	}
	if s.cfg.Passphrase != "" {
		fmt.Fprintf(w, "The page's passphrase (not the drill key; the code below logs in with it): %s\n", normalizePassphrase(s.cfg.Passphrase))
	} else {
		fmt.Fprintln(w, "No drill key: the page is open to anyone on this network.")
	}
	qrterminal.GenerateWithConfig(s.LoginURL(), qrterminal.Config{
		Level:          qrterminal.M,
		Writer:         w,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      qrterminal.QUIET_ZONE,
	})
}
