//go:build linux

package drill

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestLANReachability checks the network the drill builds, before any
// servent runs: unicast between hosts, subnet broadcast, and multicast
// out of eth0 reach every other host, in both address modes. It logs what
// happens to limited broadcast (255.255.255.255) and to multicast sent
// without choosing an interface: those depend on routes, and the daemon
// must not rely on them in link-local mode.
func TestLANReachability(t *testing.T) {
	cases := []struct {
		name string
		cfg  LANConfig
		// Whether a route covers 255.255.255.255 and 224/4 (plain mode:
		// the default route does).
		routed bool
	}{
		{"plain", LANConfig{Hosts: 3}, true},
		{"linklocal", LANConfig{Hosts: 3, LinkLocal: true}, false},
		{"linklocal-mcastroute", LANConfig{Hosts: 3, LinkLocal: true, MulticastRoute: true}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lan := newLAN(t, tc.cfg)
			p := newProber(t, lan)
			bcast := directed(lan.Hosts[0].Addr)
			port := fmt.Sprint(probePort)
			checks := []struct {
				tag, dst string
				setIf    bool
				must     bool
			}{
				{"unicast", lan.IP(1).String() + ":" + port, false, true},
				{"subnetbcast", bcast.String() + ":" + port, false, true},
				{"mcastif", probeGroup + ":" + port, true, true},
				{"limitedbcast", "255.255.255.255:" + port, false, tc.routed},
				{"mcastnoif", probeGroup + ":" + port, false, tc.routed || tc.cfg.MulticastRoute},
			}
			for _, c := range checks {
				err := p.send(0, c.dst, c.tag, c.setIf)
				want := 2
				if c.tag == "unicast" {
					want = 1
				}
				got := p.receivers(c.tag, 0, want, 2*time.Second)
				t.Logf("%-13s -> %-22s send err: %v; received by hosts %v", c.tag, c.dst, err, got)
				if c.must && (err != nil || len(got) < want) {
					t.Errorf("%s to %s: send err %v, received by %v, want %d hosts", c.tag, c.dst, err, got, want)
				}
			}
		})
	}
}

// TestLANFaults checks LinkDown/LinkUp and Partition/Heal with unicast
// and broadcast probes.
func TestLANFaults(t *testing.T) {
	lan := newLAN(t, LANConfig{Hosts: 4})
	p := newProber(t, lan)
	ctx := context.Background()
	port := fmt.Sprint(probePort)
	bcast := directed(lan.Hosts[0].Addr).String() + ":" + port
	step := 0
	reach := func(from int, dst string, want int) []int {
		t.Helper()
		step++
		tag := fmt.Sprintf("s%d", step)
		if err := p.send(from, dst, tag, false); err != nil {
			t.Logf("send %s from h%02d: %v", tag, from, err)
		}
		return p.receivers(tag, from, want, 1500*time.Millisecond)
	}

	if err := lan.LinkDown(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := reach(0, bcast, 3); !slices.Equal(got, []int{2, 3}) {
		t.Errorf("with h01 link down, broadcast reached %v, want [2 3]", got)
	}
	if err := lan.LinkUp(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// After carrier returns the port forwards at once (STP off); allow the
	// host's neighbour cache a moment.
	if err := Eventually(ctx, 5*time.Second, 200*time.Millisecond, func() error {
		if got := reach(0, lan.IP(1).String()+":"+port, 1); len(got) != 1 {
			return fmt.Errorf("unicast to h01 after link up reached %v", got)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}

	if err := lan.Partition(ctx, []int{0, 1}, []int{2, 3}); err != nil {
		t.Fatal(err)
	}
	if got := reach(0, bcast, 3); !slices.Equal(got, []int{1}) {
		t.Errorf("partitioned, broadcast from h00 reached %v, want [1]", got)
	}
	if got := reach(3, bcast, 3); !slices.Equal(got, []int{2}) {
		t.Errorf("partitioned, broadcast from h03 reached %v, want [2]", got)
	}
	if err := lan.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if got := reach(3, bcast, 3); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("healed, broadcast from h03 reached %v, want [0 1 2]", got)
	}

	if err := lan.Shape(ctx, 2, "8mbit"); err != nil {
		t.Fatal(err)
	}
	if got := reach(0, bcast, 3); len(got) != 3 {
		t.Errorf("shaped h02, broadcast reached %v, want 3 hosts", got)
	}
	if err := lan.Shape(ctx, 2, ""); err != nil {
		t.Fatal(err)
	}
}

// TestLANCloseRemovesEverything checks that Close leaves no namespace.
func TestLANCloseRemovesEverything(t *testing.T) {
	lan := newLAN(t, LANConfig{Hosts: 2})
	nss := []string{lan.BridgeNS, lan.Hosts[0].NS, lan.Hosts[1].NS}
	for _, ns := range nss {
		if !nsExists(ns) {
			t.Fatalf("namespace %s missing after NewLAN", ns)
		}
	}
	if err := lan.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ns := range nss {
		if nsExists(ns) {
			t.Errorf("namespace %s left after Close", ns)
		}
	}
	if err := lan.LinkDown(context.Background(), 0); err == nil {
		t.Error("LinkDown after Close: no error")
	}
}

// directed returns the broadcast address of p's subnet.
func directed(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	for b := p.Bits(); b < 32; b++ {
		a[b/8] |= 0x80 >> (b % 8)
	}
	return netip.AddrFrom4(a)
}

// TestSweepStale checks that a namespace whose owning test process died
// is removed by the next run, and a live owner's is not.
func TestSweepStale(t *testing.T) {
	requireNetns(t)
	ctx := context.Background()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPrefix, livePrefix := "sd"+randHex(2), "sd"+randHex(2)
	for prefix, pid := range map[string]int{deadPrefix: dead.Process.Pid, livePrefix: os.Getpid()} {
		if err := os.MkdirAll(ownerDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ownerDir, prefix), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatal(err)
		}
		ns := prefix + "-h00"
		if err := ip(ctx, "netns", "add", ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { removeNS(ctx, ns); removeOwner(prefix) })
	}
	sweepStale(ctx)
	if nsExists(deadPrefix + "-h00") {
		t.Error("namespace of a dead run not swept")
	}
	if !nsExists(livePrefix + "-h00") {
		t.Error("namespace of a live run swept")
	}
}
