package overlay

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/time/rate"
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
	// Only the admitted join noted its key: the flood did not fill the
	// path table (whose every insertion, once full, scans it).
	n.paths.mu.Lock()
	known := len(n.paths.peers)
	n.paths.mu.Unlock()
	if known > 1 {
		t.Errorf("the path table holds %d peers after the flood, want at most the 1 admitted", known)
	}
}

// TestBeaconFloodStaysBounded: a flood of beacons naming made-up keys from
// ever new addresses (100,000 over 60 s of virtual time) keeps the
// join-retry sets at what the join rate admits, and admits no more joins
// than the rate: each beacon costs O(1), not a sweep of everything seen.
func TestBeaconFloodStaysBounded(t *testing.T) {
	d := &discovery{
		n:         &Node{},
		tried:     newRecentSet[NodeID](),
		triedAddr: newRecentSet[netip.Addr](),
		joinRate:  rate.NewLimiter(beaconJoinRate, beaconJoinBurst),
	}
	start := time.Unix(1_800_000_000, 0)
	d.joinRate.AllowN(start, 0) // the bucket starts full at start
	const beacons = 100_000
	span := 60 * time.Second
	bound := beaconJoinBurst + int(beaconJoinRate*beaconRetry/time.Second) + 1
	admitted, most := 0, 0
	for i := range beacons {
		now := start.Add(span * time.Duration(i) / beacons)
		var id NodeID
		binary.BigEndian.PutUint64(id[:], uint64(i))
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if d.shouldTry(id, src, now) {
			admitted++
		}
		most = max(most, len(d.tried.at), len(d.triedAddr.at), len(d.tried.order))
	}
	t.Logf("%d beacons over %v: %d joins admitted, at most %d entries remembered (bound %d)", beacons, span, admitted, most, bound)
	if most > bound {
		t.Errorf("the retry sets held %d entries, want at most %d", most, bound)
	}
	if want := beaconJoinBurst + int(beaconJoinRate*span/time.Second) + 1; admitted > want {
		t.Errorf("%d joins admitted, want at most %d", admitted, want)
	}
	if got := d.n.stats.beaconsThrottled.Load(); got != uint64(beacons-admitted) {
		t.Errorf("%d throttled counted, want %d", got, beacons-admitted)
	}
}

// captureBeacon starts a keyed node whose beacons go to a capture socket
// only, and returns the node and one of its beacons as sent.
func captureBeacon(t *testing.T, key string) (*Node, []byte) {
	t.Helper()
	capture, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(testIP()+":0")))
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Close()
	cfg := testConfig(t, "origin")
	ip := netip.MustParseAddrPort(cfg.Listen).Addr()
	cfg.Discovery = true
	cfg.DiscoveryListen = netip.AddrPortFrom(ip, 0).String()
	cfg.BeaconTargets = []netip.AddrPort{capture.LocalAddr().(*net.UDPAddr).AddrPort()}
	cfg.BeaconMin = 100 * time.Millisecond
	cfg.DrillKey = key
	origin := startNode(t, cfg)
	capture.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	sz, _, err := capture.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("no beacon captured: %v", err)
	}
	return origin, buf[:sz]
}

// TestReplayedBeaconDropped: a keyed node's beacon, captured on the LAN,
// is sent again to another member from an attacker's address: dropped and
// counted (BeaconsWrongSource), and nothing is dialled there. The same
// bytes from the origin's own address are taken (they point at the origin,
// which the node then joins). A beacon older than the window, from the
// right address, is dropped and counted too (BeaconsStale).
func TestReplayedBeaconDropped(t *testing.T) {
	const key = "drill"
	origin, captured := captureBeacon(t, key)
	n := discoveryNodes(t, 1, func(int) string { return key })[0]
	to := netip.MustParseAddrPort(n.cfg.DiscoveryListen)
	send := func(from string, b []byte) {
		t.Helper()
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(from)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.WriteToUDPAddrPort(b, to); err != nil {
			t.Fatal(err)
		}
	}

	// The attacker replays from its own address; a victim listens there on
	// the origin's port, where an accepted beacon would send handshakes.
	attacker := testIP()
	victim, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(attacker), origin.LocalAddr().Port())))
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	for range 5 {
		send(attacker+":0", captured)
	}
	eventually(t, 5*time.Second, "the replays counted", func() bool { return n.Stats().BeaconsWrongSource >= 5 })
	victim.SetReadDeadline(time.Now().Add(time.Second))
	if sz, _, err := victim.ReadFromUDPAddrPort(make([]byte, 2048)); err == nil {
		t.Errorf("a replayed beacon made the node send %d bytes to the attacker's address", sz)
	}
	if st := n.Stats(); st.BeaconsIn != 0 || n.NumMembers() != 1 {
		t.Fatalf("replays taken: %d beacons in, %d members", st.BeaconsIn, n.NumMembers())
	}

	// Too old, from the origin's own address: a beacon the attacker could
	// have captured 11 minutes ago (made here with the key).
	keys, _ := deriveDrillKeys(key)
	b, err := decodeBeacon(captured, keys)
	if err != nil {
		t.Fatal(err)
	}
	b.Time = time.Now().Add(-11 * time.Minute)
	send(origin.LocalAddr().Addr().String()+":0", encodeBeacon(b, keys))
	eventually(t, 5*time.Second, "the old beacon counted", func() bool { return n.Stats().BeaconsStale == 1 })

	// The captured beacon from the address it lists: taken, and the node
	// joins the origin.
	send(origin.LocalAddr().Addr().String()+":0", captured)
	eventually(t, 10*time.Second, "the node joins the origin", func() bool { return n.NumMembers() == 2 })
	st := n.Stats()
	t.Logf("replayed from another address: %d dropped; too old: %d dropped; from the origin: %d taken", st.BeaconsWrongSource, st.BeaconsStale, st.BeaconsIn)
}
