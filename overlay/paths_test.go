package overlay

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestStandInRoundTrip(t *testing.T) {
	id := IDOf(Fingerprint{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 31: 7})
	a := StandIn(id, 6346)
	if !standInPrefix.Contains(a.Addr()) {
		t.Fatalf("%v is outside %v", a, standInPrefix)
	}
	got, ok := StandInID(a)
	if !ok || got != id {
		t.Fatalf("StandInID(%v) = %v, %v; want %v", a, got, ok, id)
	}
	for _, s := range []string{"10.0.0.1:6346", "[fe80::1%eth0]:6346", "[2001:db8::1]:6346", "[::ffff:1.2.3.4]:1"} {
		if _, ok := StandInID(netip.MustParseAddrPort(s)); ok {
			t.Errorf("%s taken for a stand-in", s)
		}
	}
	if usableUnicast(a.Addr()) {
		t.Errorf("a stand-in must never be published as a candidate")
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestPathCandidates(t *testing.T) {
	now := time.Now()
	fp := Fingerprint{9, 31: 1}
	id := IDOf(fp)
	locals := []localAddr{
		{Addr: netip.MustParseAddr("172.17.0.1"), Bits: 16, Iface: "docker0"},
		{Addr: netip.MustParseAddr("fe80::aa%docker0"), Bits: 64, Iface: "docker0"},
		{Addr: netip.MustParseAddr("10.77.0.9"), Bits: 24, Iface: "eth0"},
		{Addr: netip.MustParseAddr("fe80::99%eth0"), Bits: 64, Iface: "eth0"},
	}
	pt := newPathTable()
	pt.setMeta(id, fp, []netip.Addr{
		netip.MustParseAddr("172.17.0.1"), // docker's bridge: on this host too, leads nowhere
		netip.MustParseAddr("10.77.0.2"),
		netip.MustParseAddr("fe80::2"),
	}, 6346, now)
	want := []netip.AddrPort{ap("10.77.0.2:6346"), ap("[fe80::2%docker0]:6346"), ap("[fe80::2%eth0]:6346")}
	if got := pt.candidates(id, locals); !slices.Equal(got, want) {
		t.Fatalf("from metadata: %v, want %v", got, want)
	}

	// A packet's source comes before what the peer publishes; a verified
	// path before both.
	pt.hint(id, Fingerprint{}, ap("[fe80::2%eth0]:6346"), now)
	if got := pt.candidates(id, locals); got[0] != ap("[fe80::2%eth0]:6346") || len(got) != 3 {
		t.Fatalf("after hint: %v", got)
	}
	pt.verify(fp, ap("[::ffff:10.77.0.2]:6346"), now)
	if got := pt.candidates(id, locals); got[0] != ap("10.77.0.2:6346") {
		t.Fatalf("after verify: %v", got)
	}
	if best, ok := pt.best(id); !ok || best != ap("10.77.0.2:6346") {
		t.Fatalf("best = %v %v", best, ok)
	}
	if owner, ok := pt.owner(ap("10.77.0.2:6346")); !ok || owner != id {
		t.Fatalf("owner of the verified path = %v %v", owner, ok)
	}
	if _, ok := pt.owner(ap("[fe80::2%eth0]:6346")); ok {
		t.Fatal("a hint must not name its sender: a source address proves nothing")
	}

	// The address moves to another node (DHCP): it is that node's now.
	other := Fingerprint{10, 31: 2}
	pt.verify(other, ap("10.77.0.2:6346"), now)
	if owner, _ := pt.owner(ap("10.77.0.2:6346")); owner != IDOf(other) {
		t.Fatalf("moved address still owned by %v", owner)
	}
	if _, ok := pt.best(id); ok {
		t.Fatal("the first node kept a path that is now another's")
	}

	pt.verify(fp, ap("[fe80::2%eth0]:6346"), now)
	pt.demote(id, ap("[fe80::2%eth0]:6346"))
	if _, ok := pt.best(id); ok {
		t.Fatal("demoted path still best")
	}
}

func TestPathTableBounded(t *testing.T) {
	pt := newPathTable()
	now := time.Now()
	keep := Fingerprint{1}
	pt.verify(keep, ap("10.0.0.1:1"), now)
	for i := range maxPeerPaths + 10 {
		var fp Fingerprint
		fp[0], fp[1], fp[2] = 2, byte(i), byte(i>>8)
		pt.hint(IDOf(fp), fp, ap("10.0.0.2:1"), now.Add(time.Duration(i)))
	}
	if len(pt.peers) > maxPeerPaths {
		t.Fatalf("%d peers kept, limit %d", len(pt.peers), maxPeerPaths)
	}
	if _, ok := pt.best(IDOf(keep)); !ok {
		t.Fatal("a verified peer was evicted before unverified ones")
	}
	for range 3 * maxVerified {
		pt.verify(keep, ap("10.0.0.9:1"), now)
	}
	for i := range 2 * maxVerified {
		pt.verify(keep, netip.AddrPortFrom(netip.MustParseAddr("10.0.1.1"), uint16(i+1)), now)
	}
	if n := len(pt.peers[IDOf(keep)].verified); n > maxVerified {
		t.Fatalf("%d verified paths kept, limit %d", n, maxVerified)
	}
	if len(pt.byAddr) > maxVerified {
		t.Fatalf("reverse map holds %d paths of one peer", len(pt.byAddr))
	}
}

func TestPublishedAddrs(t *testing.T) {
	n := startNode(t, testConfig(t, "a"))
	got := n.Meta().Addrs
	if len(got) != 1 || got[0] != n.LocalAddr().Addr() {
		t.Fatalf("a node bound to %v publishes %v, want only that address", n.LocalAddr(), got)
	}
	cfg := testConfig(t, "b")
	cfg.Advertise = netip.MustParseAddr("192.0.2.7")
	b := startNode(t, cfg)
	if got := b.Meta().Addrs; len(got) != 2 || got[0] != cfg.Advertise {
		t.Fatalf("with advertise %v: published %v", cfg.Advertise, got)
	}
}

// TestDialIDPicksThePathThatAnswersWithTheKey: of a peer's candidates,
// one leads nowhere and one reaches a host with another key; the dial
// takes the third, where the pinned handshake completes, and that becomes
// the path memberlist packets and datagrams use.
func TestDialIDPicksThePathThatAnswersWithTheKey(t *testing.T) {
	a := startNode(t, testConfig(t, "a"))
	b := startNode(t, testConfig(t, "b"))
	impostor := startNode(t, testConfig(t, "impostor"))
	id := IDOf(b.Fingerprint())
	nowhere := netip.AddrPortFrom(netip.MustParseAddr(testIP()), freeUDPPort(t))
	a.paths.hint(id, b.Fingerprint(), b.LocalAddr(), time.Now())
	a.paths.hint(id, b.Fingerprint(), impostor.LocalAddr(), time.Now())
	a.paths.hint(id, b.Fingerprint(), nowhere, time.Now())
	if got := a.paths.candidates(id, nil); len(got) != 3 || got[0] != nowhere {
		t.Fatalf("candidates %v: want the dead one first", got)
	}
	c, err := a.DialTLS(t.Context(), StandIn(id, 0), a.idTLS(id, ALPNMemberlist), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseWithError(0, "")
	if best, ok := a.paths.best(id); !ok || best != b.LocalAddr() {
		t.Fatalf("verified path %v %v, want %v", best, ok, b.LocalAddr())
	}
	// b learnt a's path from the same handshake.
	eventually(t, 5*time.Second, "b verifies a's path", func() bool {
		p, ok := b.paths.best(a.id)
		return ok && p == a.LocalAddr()
	})
	if owner, ok := a.paths.owner(impostor.LocalAddr()); ok && owner == id {
		t.Fatal("the impostor's address was taken for b's")
	}
}

// BenchmarkPathHintFlood: a hint naming a new key (a memberlist packet or
// beacon from a made-up sender) into a table with room, and into a full
// one, as under a flood. The ratio of the two is the cost of eviction.
func BenchmarkPathHintFlood(b *testing.B) {
	now := time.Now()
	fresh := func(i int) (NodeID, Fingerprint) {
		var fp Fingerprint
		binary.BigEndian.PutUint64(fp[:], uint64(i))
		fp[8] = 0xEE
		return IDOf(fp), fp
	}
	for _, full := range []bool{false, true} {
		b.Run(map[bool]string{false: "room", true: "full"}[full], func(b *testing.B) {
			pt := newPathTable()
			if full {
				for i := range maxPeerPaths {
					id, fp := fresh(1<<30 + i) // apart from the i of the timed loop
					pt.hint(id, fp, ap("10.0.0.2:1"), now)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				if !full && i%(maxPeerPaths/2) == 0 {
					b.StopTimer()
					pt = newPathTable() // stay below the limit
					b.StartTimer()
				}
				id, fp := fresh(i)
				pt.hint(id, fp, ap("10.0.0.2:1"), now.Add(time.Duration(i)))
			}
		})
	}
}
