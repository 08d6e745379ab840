package daemon

import (
	"context"
	"time"

	"github.com/servent-p2p/servent/query"
)

// dynamicCore is the routing core as the dynamic query loop drives it.
type dynamicCore interface {
	// nextTick returns when the next dynamic query step is due, false
	// while no dynamic query runs.
	nextTick() (time.Time, bool)
	// tick runs the steps due at now and hands on what they send and
	// deliver. It does not block on the network.
	tick(now time.Time)
}

// runDynamic drives core's dynamic queries (query.DynamicConfig): it
// ticks core when its next step is due, and sleeps until woken (wake)
// while no dynamic query runs. It returns when ctx ends.
func runDynamic(ctx context.Context, core dynamicCore, wake <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var due <-chan time.Time
		if next, ok := core.nextTick(); ok {
			timer.Reset(time.Until(next))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-wake:
		case <-due:
			core.tick(time.Now())
		}
		timer.Stop()
	}
}

// dynamicLoop runs the node's dynamic queries until the daemon stops.
func (d *Daemon) dynamicLoop() { runDynamic(d.ctx, dynamicNode{d}, d.dynWake) }

// wakeDynamic tells dynamicLoop that a dynamic query may have started.
// It does not block.
func (d *Daemon) wakeDynamic() {
	select {
	case d.dynWake <- struct{}{}:
	default:
	}
}

// dynamicNode is the node's routing core as dynamicLoop drives it.
type dynamicNode struct{ d *Daemon }

var _ dynamicCore = dynamicNode{}

func (n dynamicNode) nextTick() (next time.Time, ok bool) {
	n.d.withRouter(func(r *query.Router) { next, ok = r.NextTick() })
	return next, ok
}

func (n dynamicNode) tick(now time.Time) {
	var res query.Result
	n.d.withRouter(func(r *query.Router) { res = r.Tick(now) })
	n.d.sendAll(res.Send)
	n.d.searches.deliver(res)
}
