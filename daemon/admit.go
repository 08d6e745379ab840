package daemon

import (
	"slices"
	"time"

	"github.com/servent-p2p/servent/role"
	"github.com/servent-p2p/servent/ultrapeer"
)

// admitLeaf returns nil when this node takes leaf's index now, otherwise
// the refusal to answer with: this node is not an ultrapeer, or, in the
// plan computed from its current view, it is neither one of the leaf's
// ultrapeers nor one the leaf would turn to after refusals (admits). A
// leaf whose view is a little stale acts on the refusal as on any other:
// it plans again without this ultrapeer for a moment.
func (d *Daemon) admitLeaf(leaf string) ultrapeer.Message {
	if d.role() != role.Ultrapeer {
		return &ultrapeer.Refuse{Reason: ultrapeer.RefuseNotUltrapeer, TryUltrapeers: d.tryUltrapeers()}
	}
	p := d.planner.Plan(d.view(time.Now()))
	if admits(p, d.ov.Name(), leaf) {
		return nil
	}
	try := p.Attach[leaf]
	d.log.Info("refused the index of a leaf planned elsewhere", "leaf", leaf, "its_ultrapeers", try)
	return &ultrapeer.Refuse{Reason: ultrapeer.RefuseNotPlanned, TryUltrapeers: try[:min(len(try), ultrapeer.MaxTryUltrapeers)]}
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
