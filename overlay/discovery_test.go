package overlay

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// discoveryNodes starts count nodes with no seeds whose beacons go to every
// node's discovery address (127.0.0.x:port, one x per node).
func discoveryNodes(t *testing.T, count int, key func(i int) string) []*Node {
	t.Helper()
	port := freeUDPPort(t)
	cfgs := make([]Config, count)
	var targets []netip.AddrPort
	for i := range cfgs {
		cfg := testConfig(t, "d"+string(rune('a'+i)))
		ip := netip.MustParseAddrPort(cfg.Listen).Addr()
		cfg.Discovery = true
		cfg.DiscoveryListen = netip.AddrPortFrom(ip, port).String()
		cfg.BeaconMin = 100 * time.Millisecond
		cfg.BeaconMax = 400 * time.Millisecond
		cfg.DrillKey = key(i)
		targets = append(targets, netip.AddrPortFrom(ip, port))
		cfgs[i] = cfg
	}
	var nodes []*Node
	for _, cfg := range cfgs {
		cfg.BeaconTargets = targets
		nodes = append(nodes, startNode(t, cfg))
	}
	return nodes
}

func TestDiscoveryBeacons(t *testing.T) {
	nodes := discoveryNodes(t, 4, func(int) string { return "" })
	eventually(t, 15*time.Second, "beacons join everyone", func() bool {
		for _, n := range nodes {
			// Beacons go on after the join (backing off), so every node
			// eventually hears one even when others joined it first.
			if n.NumMembers() != len(nodes) || n.Stats().BeaconsIn == 0 {
				return false
			}
		}
		return true
	})
	beacon := 0
	for _, n := range nodes {
		st := n.Stats()
		if st.BeaconsSent == 0 || st.BeaconsIn == 0 {
			t.Errorf("%s: beacons sent %d, received %d", n.Name(), st.BeaconsSent, st.BeaconsIn)
		}
		if st.JoinedVia == ViaBeacon {
			beacon++
		}
	}
	if beacon == 0 {
		t.Error("no node reports JoinedVia beacon")
	}
}

func TestDiscoveryIgnoresOtherKeys(t *testing.T) {
	nodes := discoveryNodes(t, 3, func(i int) string {
		if i == 2 {
			return "other"
		}
		return "drill"
	})
	eventually(t, 15*time.Second, "the two keyed alike join", func() bool {
		return nodes[0].NumMembers() == 2 && nodes[1].NumMembers() == 2
	})
	eventually(t, 5*time.Second, "the stranger's beacons are rejected", func() bool {
		return nodes[0].Stats().BeaconsRejected > 0 && nodes[2].Stats().BeaconsRejected > 0
	})
	if nodes[2].NumMembers() != 1 || nodes[0].IsMember(nodes[2].LocalAddr()) {
		t.Fatalf("stranger admitted: it sees %d members", nodes[2].NumMembers())
	}
}

// TestDiscoveryBroadcast shares one discovery port among nodes of one host
// (SO_REUSEPORT) and sends beacons to the loopback broadcast address, the
// path LAN beacons take.
func TestDiscoveryBroadcast(t *testing.T) {
	port := freeUDPPort(t)
	var nodes []*Node
	for i := range 3 {
		cfg := testConfig(t, "b"+string(rune('a'+i)))
		cfg.Listen = "127.0.0.1:0"
		cfg.Discovery = true
		cfg.DiscoveryListen = netip.AddrPortFrom(netip.IPv4Unspecified(), port).String()
		cfg.BeaconTargets = []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("127.255.255.255"), port)}
		cfg.BeaconMin = 100 * time.Millisecond
		cfg.BeaconMax = 400 * time.Millisecond
		nodes = append(nodes, startNode(t, cfg))
	}
	eventually(t, 15*time.Second, "broadcast beacons join everyone", func() bool {
		for _, n := range nodes {
			if n.NumMembers() != len(nodes) {
				return false
			}
		}
		return true
	})
}

// TestForgedBeaconFlood: 300 beacons naming 300 made-up keys, all saying
// "dial me at VICTIM". The node dials the victim once per beaconRetry, not
// once per beacon, and counts the rest.
func TestForgedBeaconFlood(t *testing.T) {
	nodes := discoveryNodes(t, 1, func(int) string { return "" })
	n := nodes[0]
	ip := testIP()
	victim, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(ip+":0")))
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	sender, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(ip+":0")))
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	port := victim.LocalAddr().(*net.UDPAddr).AddrPort().Port()
	to := netip.MustParseAddrPort(n.cfg.DiscoveryListen)
	const forged = 300
	for i := range forged {
		var fp Fingerprint
		fp[0], fp[1], fp[2] = 0xEE, byte(i), byte(i>>8)
		b := encodeBeacon(beacon{Version: beaconVersion, Port: port, Fingerprint: fp, Name: fmt.Sprint("fake", i)}, drillKeys{})
		if _, err := sender.WriteToUDPAddrPort(b, to); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			time.Sleep(20 * time.Millisecond) // within the socket's receive buffer
		}
	}
	eventually(t, 5*time.Second, "every forged beacon seen", func() bool { return n.Stats().BeaconsIn >= forged })

	// Count the QUIC connections the node opened towards the victim: one
	// per destination connection ID of its Initial packets.
	conns := map[string]bool{}
	victim.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 2048)
	for {
		sz, _, err := victim.ReadFromUDPAddrPort(buf)
		if err != nil {
			break
		}
		if sz > 6 && buf[0]&0xC0 == 0xC0 && int(buf[5]) <= sz-6 { // long header: DCID length at 5
			conns[string(buf[6:6+buf[5]])] = true
		}
	}
	st := n.Stats()
	t.Logf("%d forged beacons from one address: %d QUIC connections towards the victim, %d beacon-driven joins throttled", forged, len(conns), st.BeaconsThrottled)
	if len(conns) > 1 {
		t.Errorf("the node opened %d connections to the victim, want at most 1", len(conns))
	}
}
