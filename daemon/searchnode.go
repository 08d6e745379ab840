package daemon

import (
	"slices"
	"time"

	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
)

// searchNode is the node as its searcher sees it (queryNet).
type searchNode struct{ d *Daemon }

var _ queryNet = searchNode{}

// originate implements queryNet: through the routing core with the
// configured TTL, then wakes the dynamic query loop.
func (n searchNode) originate(g query.GUID, q *query.Query) query.Result {
	d := n.d
	var res query.Result
	d.withRouter(func(r *query.Router) { res = r.Originate(time.Now(), g, q, uint8(d.cfg.TTL)) })
	d.sendAll(res.Send)
	d.wakeDynamic()
	return res
}

// answerers implements queryNet: the elected ultrapeers (smart routing),
// or every member (flood). nil when there are more than
// query.MaxAnswering: then the search runs to its timeout.
func (n searchNode) answerers() []string {
	d := n.d
	var out []string
	if d.cfg.Routing == "flood" {
		for _, m := range d.ov.Members() {
			out = append(out, m.Name)
		}
	} else {
		d.topoMu.Lock()
		out = slices.Clone(d.topo.ultrapeers)
		d.topoMu.Unlock()
	}
	if len(out) > query.MaxAnswering || d.noAnswerMarks {
		return nil
	}
	return out
}

// unattached implements queryNet.
func (n searchNode) unattached() bool {
	return n.d.role() == role.Leaf && len(n.d.leaves.attached()) == 0
}
