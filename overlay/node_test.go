package overlay

import (
	"errors"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/servent-p2p/servent/role"
)

func TestTwoNodesJoinAndMeta(t *testing.T) {
	a := startNode(t, testConfig(t, "a"))
	b := startNode(t, testConfig(t, "b"))
	joinTo(t, b, a)
	eventually(t, 5*time.Second, "both see 2 members", func() bool {
		return a.NumMembers() == 2 && b.NumMembers() == 2
	})
	if got := b.Stats().JoinedVia; got != ViaSeed {
		t.Errorf("b JoinedVia = %q, want %q", got, ViaSeed)
	}
	if got := a.Stats().JoinedVia; got != ViaIncoming {
		t.Errorf("a JoinedVia = %q, want %q", got, ViaIncoming)
	}
	mb, ok := a.MemberByAddr(b.LocalAddr())
	if !ok || mb.Name != "b" || mb.Meta.Fingerprint != b.Fingerprint() || mb.Meta.QUICPort != b.LocalAddr().Port() {
		t.Fatalf("a's view of b: %+v ok=%v", mb, ok)
	}
	if err := b.SetMeta(Meta{Role: role.Ultrapeer, Capacity: 7, Shares: 12}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "metadata update reaches a", func() bool {
		m, _ := a.MemberByAddr(b.LocalAddr())
		return m.Meta.Role == role.Ultrapeer && m.Meta.Shares == 12 && m.Meta.QUICPort == b.LocalAddr().Port()
	})
	sawUpdate := false
	for len(a.Events()) > 0 {
		if ev := <-a.Events(); ev.Kind == EventUpdate && ev.Member.Name == "b" {
			sawUpdate = true
		}
	}
	if !sawUpdate {
		t.Error("no update event for b on a")
	}
	start := time.Now()
	if err := b.Leave(time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a sees b leave", func() bool { return a.NumMembers() == 1 })
	t.Logf("graceful leave seen after %v", time.Since(start))
}

func TestConvergeAndDeath(t *testing.T) {
	const count = 10
	first := startNode(t, testConfig(t, "n0"))
	nodes := []*Node{first}
	for i := 1; i < count; i++ {
		cfg := testConfig(t, "n"+string(rune('0'+i)))
		cfg.Seeds = []string{first.LocalAddr().String()}
		nodes = append(nodes, startNode(t, cfg))
	}
	eventually(t, 20*time.Second, "10 nodes converge", func() bool {
		for _, n := range nodes {
			if n.NumMembers() != count {
				return false
			}
		}
		return true
	})
	for _, n := range nodes[1:] {
		if v := n.Stats().JoinedVia; v != ViaSeed {
			t.Errorf("%s JoinedVia %q", n.Name(), v)
		}
	}
	victim := nodes[count-1]
	start := time.Now()
	victim.Close() // no leave: looks like a crash to the others
	eventually(t, 15*time.Second, "death detected everywhere", func() bool {
		for _, n := range nodes[:count-1] {
			if n.NumMembers() != count-1 {
				return false
			}
		}
		return true
	})
	t.Logf("death of a Close()d node seen by all %d others after %v", count-1, time.Since(start))
}

func TestDrillKeyMismatch(t *testing.T) {
	keyed := func(name, key string) *Node {
		cfg := testConfig(t, name)
		cfg.DrillKey = key
		return startNode(t, cfg)
	}
	a := keyed("a", "correct horse")
	tests := []struct {
		name, key string
		wantErr   error
	}{
		{"wrong key", "battery staple", ErrDrillKey},
		{"no key", "", ErrDrillKey},
		{"same key", "correct horse", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := keyed("b-"+tc.name, tc.key)
			_, err := b.Join([]string{a.LocalAddr().String()}, ViaSeed)
			t.Logf("join error: %v", err)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("join err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if b.NumMembers() != 1 {
					t.Fatalf("refused node sees %d members", b.NumMembers())
				}
				if a.IsMember(b.LocalAddr()) {
					t.Fatal("refused node became a member")
				}
			}
		})
	}
	if n := a.Stats().StreamsRefused; n < 2 {
		t.Errorf("StreamsRefused = %d, want at least the 2 refused joins", n)
	}
}

func TestCloseIdempotent(t *testing.T) {
	n, err := New(testConfig(t, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("close before start: %v", err)
	}
	m := startNode(t, testConfig(t, "y"))
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := m.HandleALPN("late", nil); !errors.Is(err, ErrStarted) {
		t.Fatalf("HandleALPN after start: %v", err)
	}
}

func TestDefaultName(t *testing.T) {
	cfg := testConfig(t, "")
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := "-" + n.Fingerprint().String()[:8]
	if got := n.Name(); len(got) <= len(want) || got[len(got)-len(want):] != want {
		t.Fatalf("name %q does not end in %q", got, want)
	}
}

func TestCloseJoinsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := func(name string) Config {
		c := testConfig(t, name)
		c.Discovery = true
		c.DiscoveryListen = netip.AddrPortFrom(netip.MustParseAddrPort(c.Listen).Addr(), 0).String()
		c.BeaconTargets = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9")}
		return c
	}
	a := startNode(t, cfg("a"), func(n *Node) {
		n.HandleDatagrams(testPlane, func(netip.AddrPort, []byte) {})
	})
	b := startNode(t, cfg("b"))
	joinTo(t, b, a)
	a.Close()
	b.Close()
	eventually(t, 10*time.Second, "goroutines return to the baseline", func() bool {
		return runtime.NumGoroutine() <= before
	})
}
