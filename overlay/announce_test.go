package overlay

import (
	"fmt"
	"testing"
	"time"

	"github.com/servent-p2p/servent/role"
)

// setMemberlistLoss changes the memberlist packet loss of a running injector.
func (fi *faultInjector) setMemberlistLoss(p float64) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.f.MemberlistLoss = p
}

// TestMetaChangeGossipLostIsPushed: every gossip packet carrying a
// member's role change is lost; the other members still see the new role
// within seconds (pushMeta), not at the next periodic push/pull. Probes
// and periodic push/pulls are off, so nothing else could carry it.
func TestMetaChangeGossipLostIsPushed(t *testing.T) {
	var nodes []*Node
	for i := range 3 {
		cfg := testConfig(t, fmt.Sprintf("n%d", i))
		cfg.ProbeInterval = time.Hour
		cfg.PushPullInterval = time.Hour
		var setup []func(*Node)
		if i == 1 {
			setup = append(setup, func(n *Node) { n.faults = newFaultInjector(Faults{}) })
		}
		nodes = append(nodes, startNode(t, cfg, setup...))
		if i > 0 {
			joinTo(t, nodes[i], nodes[0])
		}
	}
	eventually(t, 10*time.Second, "3 members everywhere", func() bool {
		for _, n := range nodes {
			if len(n.Members()) != 3 {
				return false
			}
		}
		return true
	})
	b := nodes[1]
	b.faults.setMemberlistLoss(1)
	changed := time.Now()
	if err := b.SetMeta(Meta{Role: role.Ultrapeer, Capacity: 2}); err != nil {
		t.Logf("SetMeta: %v", err) // gossip may time out with every packet lost
	}
	// Every retransmission of the update is spent into the void.
	time.Sleep(time.Second)
	b.faults.setMemberlistLoss(0)
	eventually(t, 5*time.Second, "the others to see b's new role", func() bool {
		for _, n := range []*Node{nodes[0], nodes[2]} {
			if m, ok := n.MemberByName(b.Name()); !ok || m.Meta.Role != role.Ultrapeer {
				return false
			}
		}
		return true
	})
	t.Logf("role change seen by every member %v after it, its gossip lost", time.Since(changed).Round(time.Millisecond))
}

// TestChangedBeyondShares: only what the planners and paths read counts.
func TestChangedBeyondShares(t *testing.T) {
	a := Meta{Role: role.Leaf, Capacity: 1, Shares: 3}
	for _, c := range []struct {
		b    Meta
		want bool
	}{
		{Meta{Role: role.Leaf, Capacity: 1, Shares: 9}, false},
		{Meta{Role: role.Ultrapeer, Capacity: 1, Shares: 3}, true},
		{Meta{Role: role.Leaf, Capacity: 2, Shares: 3}, true},
	} {
		if got := changedBeyondShares(a, c.b); got != c.want {
			t.Errorf("changedBeyondShares(%+v, %+v) = %v, want %v", a, c.b, got, c.want)
		}
	}
}
