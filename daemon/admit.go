package daemon

import (
	"slices"
	"time"

	"github.com/servent-p2p/servent/role"
	"github.com/servent-p2p/servent/ultrapeer"
)

// The daemon answers the index server's questions from its topology and
// its plan: it is the leafPolicy.
var _ leafPolicy = (*Daemon)(nil)

func (d *Daemon) isUltrapeer() bool { return d.role() == role.Ultrapeer }

func (d *Daemon) planned(leaf string) (bool, []string) {
	p := d.planner.Plan(d.view(time.Now()))
	return admits(p, d.ov.Name(), leaf), p.Attach[leaf]
}

func (d *Daemon) plannedLeaves() []string {
	d.topoMu.Lock()
	defer d.topoMu.Unlock()
	return d.topo.leaves
}

func (d *Daemon) tryUltrapeers() []string {
	d.topoMu.Lock()
	ups := d.topo.ultrapeers
	d.topoMu.Unlock()
	return ultrapeer.TryUltrapeers(d.ov.Name(), ups, 8)
}

// admits is the admission rule: ultrapeer up holds leaf in plan p, or up is
// among the leaf's first 2*PerLeaf ultrapeers in rendezvous order (where a
// leaf turns when some of its first choices refused it). So one member
// burdens at most 2*ultrapeers_per_leaf ultrapeers, or those the cap sends
// it to.
func admits(p ultrapeer.Plan, up, leaf string) bool {
	if _, ok := slices.BinarySearch(p.Leaves[up], leaf); ok {
		return true
	}
	return slices.Contains(ultrapeer.Attach(leaf, p.Ultrapeers, 2*p.PerLeaf), up)
}

// displaced returns the leaf an ultrapeer at maxLeaves (< 1: no limit)
// drops to let leaf in: one of held (the registered leaves) that planned
// (the leaves the plan gives it, sorted) does not hold, when planned holds
// leaf (that leaf's own plan has moved it on, or will once its view
// catches up). A leaf the plan does not give this ultrapeer displaces no
// one: it is accepted only while there is room. Pure.
func displaced(held, planned []string, leaf string, maxLeaves int) (string, bool) {
	if maxLeaves < 1 || len(held) < maxLeaves || slices.Contains(held, leaf) {
		return "", false
	}
	if _, ok := slices.BinarySearch(planned, leaf); !ok {
		return "", false
	}
	for _, l := range held {
		if _, ok := slices.BinarySearch(planned, l); !ok {
			return l, true
		}
	}
	return "", false
}
