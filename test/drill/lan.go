//go:build linux

package drill

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"sync"
)

// Address plan of a LAN. Every LAN lives in its own namespaces, so two
// runs may use the same addresses without clashing.
var (
	// plainPrefix is the subnet of an ordinary LAN (DHCP-like addresses).
	plainPrefix = netip.MustParsePrefix("10.77.0.0/24")
	// routerAddr is the default gateway of an ordinary LAN: an address on
	// the bridge that answers ARP but routes nowhere (the internet is down).
	routerAddr = netip.MustParseAddr("10.77.0.254")
	// linkLocalPrefix is the IPv4 link-local range (RFC 3927) used when the
	// router is gone and nobody hands out addresses.
	linkLocalPrefix = netip.MustParsePrefix("169.254.0.0/16")
	// dockerBridge is the address Docker gives docker0 on every host that
	// ever ran it: the same on all of them.
	dockerBridge = netip.MustParsePrefix("172.17.0.1/16")
	// vpnAddr is a VPN client's address on its tunnel, which holds the
	// default route.
	vpnAddr = netip.MustParsePrefix("10.8.0.2/24")
)

// IPv4Mode says which IPv4 address a host's LAN interface gets. Every
// host also has the IPv6 link-local address the kernel gives an up
// interface, except an IPv4Late host until its address comes.
type IPv4Mode uint8

// IPv4 modes.
const (
	// IPv4Plain is 10.77.0.N/24 with a default route via a dead router.
	IPv4Plain IPv4Mode = iota
	// IPv4None is no IPv4 address at all: IPv6 link-local only, a LAN
	// whose DHCP server is gone.
	IPv4None
	// IPv4Late starts with no address at all (IPv6 off too) and gets
	// 10.77.0.N/24 when the test calls AddLateAddresses, as when DHCP
	// answers late.
	IPv4Late
)

// maxHosts is the most hosts one LAN holds (the plain /24 minus router).
const maxHosts = 200

// ErrClosed is returned by operations on a LAN after Close.
var ErrClosed = errors.New("drill: lan closed")

// LANConfig describes a LAN to build.
type LANConfig struct {
	// Hosts is the number of hosts (network namespaces), 1..200.
	Hosts int
	// LinkLocal gives every host only a random 169.254.x.y/16 address and
	// no route at all: a LAN whose router (and DHCP server) is down.
	// Otherwise hosts get 10.77.0.N/24 and a default route via a router
	// address that leads nowhere.
	LinkLocal bool
	// MulticastRoute adds `224.0.0.0/4 dev eth0` in every host. Off by
	// default: the daemon has to cope without it, as on a real laptop.
	MulticastRoute bool
	// IPv4 picks each host's IPv4 addressing on eth0 (nil: IPv4Plain).
	// Ignored with LinkLocal.
	IPv4 func(i int) IPv4Mode
	// DockerBridge gives every host a docker0 bridge with the same
	// 172.17.0.1/16 address, up, created before eth0 (a lower ifindex).
	DockerBridge bool
	// VPN gives every host a vpn0 interface (10.8.0.2/24) holding the
	// default route, as a VPN client does.
	VPN bool
	// Binary is the servent binary the hosts run.
	Binary string
	// Dir holds one directory per host (data, shares, log).
	Dir string
}

// LAN is a set of hosts on one Ethernet segment: one network namespace per
// host, each with a veth pair whose far end is a port of a bridge that
// lives in its own namespace. Methods are safe for concurrent use.
type LAN struct {
	// Prefix names this run's namespaces ("sd" + 4 hex digits).
	Prefix string
	// BridgeNS is the namespace holding the bridges and host ports.
	BridgeNS string
	// Hosts are the hosts, index i named "hII".
	Hosts []*Host
	cfg   LANConfig

	mu      sync.Mutex
	bridges map[string]bool // bridges created so far
	closed  bool
}

// NewLAN builds the LAN: it sweeps namespaces left by dead runs, then
// creates the bridge namespace, the bridge (multicast snooping off, so
// multicast floods like on a dumb switch) and one namespace per host with
// its address, lo up and, in plain mode, the default route. On error,
// everything created so far is removed. It blocks for about 50 ms per host.
func NewLAN(ctx context.Context, cfg LANConfig) (*LAN, error) {
	if cfg.Hosts < 1 || cfg.Hosts > maxHosts {
		return nil, fmt.Errorf("drill: %d hosts: want 1..%d", cfg.Hosts, maxHosts)
	}
	sweepStale(ctx)
	l := &LAN{Prefix: "sd" + randHex(2), cfg: cfg, bridges: map[string]bool{}}
	l.BridgeNS = l.Prefix + "-br"
	if err := writeOwner(l.Prefix); err != nil {
		return nil, err
	}
	if err := l.build(ctx); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	return l, nil
}

func (l *LAN) build(ctx context.Context) error {
	if err := ip(ctx, "netns", "add", l.BridgeNS); err != nil {
		return err
	}
	if err := inNS(ctx, l.BridgeNS, "link", "set", "lo", "up"); err != nil {
		return err
	}
	if err := l.ensureBridge(ctx, "br0"); err != nil {
		return err
	}
	if !l.cfg.LinkLocal {
		if err := inNS(ctx, l.BridgeNS, "addr", "add", routerAddr.String()+"/24", "brd", "+", "dev", "br0"); err != nil {
			return err
		}
	}
	addrs := l.addresses()
	for i := range l.cfg.Hosts {
		h := &Host{Index: i, Name: fmt.Sprintf("h%02d", i), lan: l, Addr: addrs[i]}
		h.NS = l.Prefix + "-" + h.Name
		h.port = fmt.Sprintf("p%02d", i)
		h.Dir = filepath.Join(l.cfg.Dir, h.Name)
		l.Hosts = append(l.Hosts, h)
		if err := l.addHost(ctx, h); err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	return nil
}

// addresses returns one address per host: consecutive in plain mode,
// random distinct link-local ones otherwise (169.254.1.0 to
// 169.254.254.255, as RFC 3927 asks).
func (l *LAN) addresses() []netip.Prefix {
	out := make([]netip.Prefix, 0, l.cfg.Hosts)
	if !l.cfg.LinkLocal {
		a := plainPrefix.Addr()
		for range l.cfg.Hosts {
			a = a.Next()
			out = append(out, netip.PrefixFrom(a, plainPrefix.Bits()))
		}
		return out
	}
	seen := map[netip.Addr]bool{}
	for len(out) < l.cfg.Hosts {
		a := netip.AddrFrom4([4]byte{169, 254, byte(1 + rand.IntN(254)), byte(1 + rand.IntN(254))})
		if !seen[a] {
			seen[a] = true
			out = append(out, netip.PrefixFrom(a, linkLocalPrefix.Bits()))
		}
	}
	return out
}

func (l *LAN) ensureBridge(ctx context.Context, br string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bridges[br] {
		return nil
	}
	// stp off: ports forward at once; snooping off: multicast floods to
	// every port whether or not anyone sent an IGMP report.
	if err := inNS(ctx, l.BridgeNS, "link", "add", br, "type", "bridge",
		"stp_state", "0", "mcast_snooping", "0", "forward_delay", "0"); err != nil {
		return err
	}
	if err := inNS(ctx, l.BridgeNS, "link", "set", br, "up"); err != nil {
		return err
	}
	l.bridges[br] = true
	return nil
}

func (l *LAN) addHost(ctx context.Context, h *Host) error {
	if err := ip(ctx, "netns", "add", h.NS); err != nil {
		return err
	}
	steps := [][]string{{"-n", h.NS, "link", "set", "lo", "up"}}
	if l.cfg.DockerBridge {
		steps = append(steps,
			[]string{"-n", h.NS, "link", "add", "docker0", "type", "bridge"},
			[]string{"-n", h.NS, "addr", "add", dockerBridge.String(), "dev", "docker0"},
			[]string{"-n", h.NS, "link", "set", "docker0", "up"})
	}
	// The pair is created inside the two namespaces at once, so its
	// names never clash with the root namespace or another run.
	steps = append(steps,
		[]string{"-n", l.BridgeNS, "link", "add", h.port, "type", "veth", "peer", "name", "eth0", "netns", h.NS},
		[]string{"-n", l.BridgeNS, "link", "set", h.port, "master", "br0"},
		[]string{"-n", l.BridgeNS, "link", "set", h.port, "up"})
	for _, s := range steps {
		if err := ip(ctx, s...); err != nil {
			return err
		}
	}
	mode := l.ipv4Mode(h.Index)
	if mode == IPv4Late {
		if _, err := run(ctx, "ip", "netns", "exec", h.NS, "sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1"); err != nil {
			return err
		}
	}
	steps = nil
	if mode == IPv4Plain {
		steps = append(steps, []string{"-n", h.NS, "addr", "add", h.Addr.String(), "brd", "+", "dev", "eth0"})
	}
	steps = append(steps, []string{"-n", h.NS, "link", "set", "eth0", "up"})
	switch {
	case l.cfg.VPN:
		steps = append(steps,
			// A veth pair whose far end goes nowhere stands in for the
			// tunnel (no dummy or tun driver needed).
			[]string{"-n", h.NS, "link", "add", "vpn0", "type", "veth", "peer", "name", "vpn0-far"},
			[]string{"-n", h.NS, "addr", "add", vpnAddr.String(), "dev", "vpn0"},
			[]string{"-n", h.NS, "link", "set", "vpn0-far", "up"},
			[]string{"-n", h.NS, "link", "set", "vpn0", "up"},
			[]string{"-n", h.NS, "route", "add", "default", "dev", "vpn0"})
	case !l.cfg.LinkLocal && mode == IPv4Plain:
		steps = append(steps, []string{"-n", h.NS, "route", "add", "default", "via", routerAddr.String(), "dev", "eth0"})
	}
	if l.cfg.MulticastRoute {
		steps = append(steps, []string{"-n", h.NS, "route", "add", "224.0.0.0/4", "dev", "eth0"})
	}
	for _, s := range steps {
		if err := ip(ctx, s...); err != nil {
			return err
		}
	}
	return nil
}

// ipv4Mode is host i's IPv4 addressing.
func (l *LAN) ipv4Mode(i int) IPv4Mode {
	if l.cfg.LinkLocal || l.cfg.IPv4 == nil {
		return IPv4Plain
	}
	return l.cfg.IPv4(i)
}

// AddLateAddresses gives every IPv4Late host its address (and IPv6 back):
// DHCP answered at last. The daemons must notice without a restart.
func (l *LAN) AddLateAddresses(ctx context.Context) error {
	for _, h := range l.Hosts {
		if l.ipv4Mode(h.Index) != IPv4Late {
			continue
		}
		if _, err := run(ctx, "ip", "netns", "exec", h.NS, "sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0"); err != nil {
			return err
		}
		if err := ip(ctx, "-n", h.NS, "addr", "add", h.Addr.String(), "brd", "+", "dev", "eth0"); err != nil {
			return err
		}
	}
	return nil
}

// IP returns host i's address.
func (l *LAN) IP(i int) netip.Addr { return l.Hosts[i].Addr.Addr() }

// LinkDown cuts host i's cable: its bridge port goes down, so the host's
// eth0 loses carrier but keeps its address, like a laptop walking out of
// range. Its daemon keeps running.
func (l *LAN) LinkDown(ctx context.Context, i int) error {
	return l.bridgeCmd(ctx, "link", "set", l.Hosts[i].port, "down")
}

// LinkUp reconnects host i's cable.
func (l *LAN) LinkUp(ctx context.Context, i int) error {
	return l.bridgeCmd(ctx, "link", "set", l.Hosts[i].port, "up")
}

// Partition splits the LAN: the hosts of groups[k] are moved to bridge
// "br<k>" (groups[0] and every host named in no group stay on br0).
// Hosts on different bridges cannot reach each other at all.
func (l *LAN) Partition(ctx context.Context, groups ...[]int) error {
	for k, g := range groups {
		br := fmt.Sprintf("br%d", k)
		if err := l.ensureBridge(ctx, br); err != nil {
			return err
		}
		for _, i := range g {
			if err := l.bridgeCmd(ctx, "link", "set", l.Hosts[i].port, "master", br); err != nil {
				return err
			}
		}
	}
	return nil
}

// Heal puts every host back on br0: one segment again.
func (l *LAN) Heal(ctx context.Context) error {
	for _, h := range l.Hosts {
		if err := l.bridgeCmd(ctx, "link", "set", h.port, "master", "br0"); err != nil {
			return err
		}
	}
	return nil
}

// Shape limits the traffic the LAN delivers to host i to rate (tc units,
// e.g. "40mbit") with a token bucket on its bridge port. An empty rate
// removes the limit. (tc netem is not available; tbf is.)
func (l *LAN) Shape(ctx context.Context, i int, rate string) error {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	port := l.Hosts[i].port
	if rate == "" {
		_, err := run(ctx, "tc", "-n", l.BridgeNS, "qdisc", "del", "dev", port, "root")
		return err
	}
	_, err := run(ctx, "tc", "-n", l.BridgeNS, "qdisc", "replace", "dev", port, "root",
		"tbf", "rate", rate, "burst", "64kb", "latency", "400ms")
	return err
}

func (l *LAN) bridgeCmd(ctx context.Context, args ...string) error {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return inNS(ctx, l.BridgeNS, args...)
}

// Close kills every daemon (SIGKILL) and every other process left in the
// LAN's namespaces, then deletes the namespaces, which removes the veths
// and bridges with them. It is idempotent and safe to call after a
// partial NewLAN. It blocks until the processes are gone (bounded).
func (l *LAN) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	ctx := context.Background()
	var errs []error
	for _, h := range l.Hosts {
		h.kill()
	}
	nss := []string{l.BridgeNS}
	for _, h := range l.Hosts {
		nss = append(nss, h.NS)
	}
	for _, ns := range nss {
		if err := removeNS(ctx, ns); err != nil {
			errs = append(errs, err)
		}
	}
	removeOwner(l.Prefix)
	return errors.Join(errs...)
}

// randHex returns 2n random hex digits.
func randHex(n int) string {
	b := make([]byte, n)
	if _, err := cryptoRead(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

var cryptoRead = crand.Read
