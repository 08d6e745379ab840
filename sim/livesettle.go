package sim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/query"
)

// liveExpect is what one node's status must show once the network has
// settled into the topology the simulation models.
type liveExpect struct {
	members, shares int
	ultrapeers      []string // smart: the elected set
	mesh            []string // flood neighbours or ultrapeer mesh
	attachedTo      []string // smart leaf
	leaves          []string // smart ultrapeer
}

// check returns why st is not yet as expected, or nil.
func (e *liveExpect) check(st api.Status) error {
	switch {
	case st.Members != e.members:
		return fmt.Errorf("sees %d of %d members", st.Members, e.members)
	case st.Scanning || st.Shares != e.shares:
		return fmt.Errorf("shares %d of %d (scanning %v)", st.Shares, e.shares, st.Scanning)
	case !sameSet(st.Ultrapeers, e.ultrapeers):
		return fmt.Errorf("ultrapeers %v, want %v", st.Ultrapeers, e.ultrapeers)
	case !sameSet(st.Mesh, e.mesh):
		return fmt.Errorf("neighbours %v, want %v", st.Mesh, e.mesh)
	case !sameSet(st.AttachedTo, e.attachedTo):
		return fmt.Errorf("attached to %v, want %v", st.AttachedTo, e.attachedTo)
	case !sameSet(st.Leaves, e.leaves):
		return fmt.Errorf("leaves %v, want %v", st.Leaves, e.leaves)
	}
	return nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// expectations computes every node's settled status from the simulator's
// model of the daemon's rules (GraphMembership).
func (ln *liveNet) expectations() []liveExpect {
	w, n := ln.w, len(ln.nodes)
	names := func(ids []query.PeerID) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = MemberName(int(peer(id)))
		}
		return out
	}
	out := make([]liveExpect, n)
	if ln.mode == ModeFlood {
		g := MembershipGraph(n, ln.cfg.FloodDegree)
		for v := range out {
			out[v] = liveExpect{members: n, shares: len(w.work.nodeFiles[v])}
			for _, u := range g.Neighbours(v) {
				out[v].mesh = append(out[v].mesh, MemberName(int(u)))
			}
		}
		return out
	}
	if w.hier == nil {
		w.hier = buildHierarchy(w.ids, w.work, ln.cfg.Hierarchy, true, nil)
	}
	h := w.hier
	ups := make([]string, len(h.ups))
	for i, u := range h.ups {
		ups[i] = MemberName(int(peer(query.PeerID(u))))
	}
	for v := range out {
		e := liveExpect{members: n, shares: len(w.work.nodeFiles[v]), ultrapeers: ups}
		if h.isUP[v] {
			e.mesh, e.leaves = names(h.mesh[v]), names(h.upLeaves[v])
		} else {
			e.attachedTo = names(h.leafUPs[v])
		}
		out[v] = e
	}
	return out
}

// settle waits until every node shows the expected topology, all shares
// counted and every leaf registered with its ultrapeers, in one sweep over
// all nodes in which nobody had to be waited for (so no node regressed
// while others caught up).
func (ln *liveNet) settle(ctx context.Context) error {
	limit := 30*time.Second + time.Duration(len(ln.nodes))*time.Second
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	want := ln.expectations()
	for {
		stable := true
		for v, e := range want {
			waited := false
			_, err := ln.nodes[v].waitStatus(ctx, limit, func(st api.Status) error {
				err := e.check(st)
				waited = waited || err != nil
				return err
			})
			if err != nil {
				return fmt.Errorf("settle: %w", err)
			}
			stable = stable && !waited
		}
		if stable {
			return nil
		}
	}
}
