//go:build linux

package drill

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// addressingHosts is the size of each addressing scenario's LAN.
const addressingHosts = 5

// joinDeadline is how long after its addresses exist every host must see
// every other as a member.
const joinDeadline = 20 * time.Second

// The addressing scenarios run hosts as users have them: every host runs
// nothing but `servent run --share DIR` (no --listen, no seeds), and each
// scenario asserts that every host sees every other as a member within
// 20 s, that `servent peers` shows a reachable address for every member,
// that a search from each host finds a file of another host, and that a
// download verifies.

// TestAddressingDockerBridge: every host also has docker0 with the same
// 172.17.0.1/16, created before the LAN interface.
func TestAddressingDockerBridge(t *testing.T) {
	addressing(t, LANConfig{Hosts: addressingHosts, DockerBridge: true}, nil)
}

// TestAddressingIPv6LinkLocalOnly: no DHCP, so no IPv4 address at all;
// only the IPv6 link-local addresses the kernel assigns.
func TestAddressingIPv6LinkLocalOnly(t *testing.T) {
	addressing(t, LANConfig{Hosts: addressingHosts, IPv4: func(int) IPv4Mode { return IPv4None }}, nil)
}

// TestAddressingMixed: even hosts have IPv4 and IPv6, odd hosts IPv6
// link-local only.
func TestAddressingMixed(t *testing.T) {
	addressing(t, LANConfig{Hosts: addressingHosts, IPv4: func(i int) IPv4Mode {
		if i%2 == 1 {
			return IPv4None
		}
		return IPv4Plain
	}}, nil)
}

// TestAddressingVPNDefaultRoute: a second, unrelated interface holds the
// default route (a VPN stand-in); LAN traffic must still use the LAN.
func TestAddressingVPNDefaultRoute(t *testing.T) {
	addressing(t, LANConfig{Hosts: addressingHosts, VPN: true}, nil)
}

// TestAddressingLateAddress: the LAN interface has no address at all when
// servent starts; IPv4 (and IPv6) come 10 s later. No restart.
func TestAddressingLateAddress(t *testing.T) {
	addressing(t, LANConfig{Hosts: addressingHosts, IPv4: func(int) IPv4Mode { return IPv4Late }},
		func(ctx context.Context, d *drill) {
			time.Sleep(10 * time.Second)
			for _, h := range d.lan.Hosts {
				if log := h.LogTail(200); !strings.Contains(log, "no usable address on any up interface") || !strings.Contains(log, "eth0 up, no address") {
					d.t.Errorf("%s without an address does not say so, naming eth0:\n%s", h.Name, log)
				}
				if !h.Running() {
					d.t.Fatalf("%s gave up without an address", h.Name)
				}
			}
			if err := d.lan.AddLateAddresses(ctx); err != nil {
				d.t.Fatal(err)
			}
		})
}

// TestAddressingIPv4LinkLocal: 169.254/16 only and no route, as before.
func TestAddressingIPv4LinkLocal(t *testing.T) {
	addressing(t, LANConfig{Hosts: addressingHosts, LinkLocal: true}, nil)
}

// addressing runs one addressing scenario; after, when set, runs once the
// daemons are up and the join deadline counts from its end.
func addressing(t *testing.T, cfg LANConfig, after func(context.Context, *drill)) {
	if testing.Short() {
		t.Skip("drill: -short runs only the 6-host cold start")
	}
	ctx := t.Context()
	d := newDrill(t, cfg, smallFiles)
	start := time.Now()
	d.start(ctx, d.all(), func(int) StartOptions { return StartOptions{DefaultListen: true} })
	if after != nil {
		after(ctx, d)
		start = time.Now()
	}
	err := Eventually(ctx, joinDeadline-time.Since(start), 250*time.Millisecond, func() error { return d.allReachable(ctx) })
	if err != nil {
		t.Fatalf("not every host reaches every other within %s: %v\n%s", joinDeadline, err, d.describe(ctx, d.all()))
	}
	t.Logf("every host sees and reaches every other after %s", time.Since(start).Round(time.Millisecond))
	t.Logf("paths:\n%s", d.paths(ctx))

	d.waitConverged(ctx, d.all(), 60*time.Second)
	n := len(d.lan.Hosts)
	for i := range n {
		to := (i + 1) % n
		f := d.files[to][0]
		if _, so, ok, err := d.lan.Hosts[i].Find(ctx, searchTimeout, f.Hash, f.Token); err != nil || !ok {
			t.Errorf("search from %s for %s (on %s): found=%v err=%v (%d results)", d.lan.Hosts[i].Name, f.Token, d.lan.Hosts[to].Name, ok, err, len(so.Results))
		}
	}
	src, dst := n-1, 0
	f := d.files[src][1]
	h := d.lan.Hosts[dst]
	done, err := d.getWithRetry(ctx, dst, f, 60*time.Second)
	if err != nil {
		t.Fatalf("get %s from %s on %s: %v", f.Name, d.lan.Hosts[src].Name, h.Name, err)
	}
	d.verifyGet(done, f)
	t.Logf("get: %s (%d B) from %s to %s in %.3fs, sources %v", f.Name, f.Size, d.lan.Hosts[src].Name, h.Name, done.Seconds, done.Sources)
}

// allReachable checks that every host lists every other as an alive
// member with a path: an address that is not a stand-in and not one that
// leads nowhere (docker's bridge address, the VPN's).
func (d *drill) allReachable(ctx context.Context) error {
	n := len(d.lan.Hosts)
	for _, h := range d.lan.Hosts {
		peers, err := h.Peers(ctx)
		if err != nil {
			return err
		}
		seen := 0
		for _, p := range peers {
			if p.Self || p.State != "alive" {
				continue
			}
			seen++
			ap, err := netip.ParseAddrPort(p.Addr)
			if err != nil {
				return fmt.Errorf("%s has no path to %s yet (candidates %v)", h.Name, p.Name, p.Candidates)
			}
			if a := ap.Addr(); dockerBridge.Contains(a) || vpnAddr.Contains(a) {
				return fmt.Errorf("%s reaches %s at %s, an address that leads nowhere", h.Name, p.Name, ap)
			}
		}
		if seen != n-1 {
			return fmt.Errorf("%s sees %d other members, want %d", h.Name, seen, n-1)
		}
	}
	return nil
}

// paths lists, per host, the address it reaches each other host at.
func (d *drill) paths(ctx context.Context) string {
	var out string
	for _, h := range d.lan.Hosts {
		peers, err := h.Peers(ctx)
		if err != nil {
			out += fmt.Sprintf("  %s: %v\n", h.Name, err)
			continue
		}
		out += "  " + h.Name + ":"
		for _, p := range peers {
			if !p.Self {
				out += " " + p.Name + "=" + p.Addr
			}
		}
		out += "\n"
	}
	return out
}
