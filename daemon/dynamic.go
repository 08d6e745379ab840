package daemon

import (
	"time"

	"github.com/servent-p2p/servent/query"
)

// dynamicLoop drives the routing core's dynamic queries
// (query.DynamicConfig): it ticks the router when its next step is due
// and sends what the step sends, and sleeps until woken (wakeDynamic)
// while no dynamic query runs. It returns when the daemon stops.
func (d *Daemon) dynamicLoop() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var (
			next time.Time
			ok   bool
			due  <-chan time.Time
		)
		d.withRouter(func(r *query.Router) { next, ok = r.NextTick() })
		if ok {
			timer.Reset(time.Until(next))
			due = timer.C
		}
		select {
		case <-d.ctx.Done():
			timer.Stop()
			return
		case <-d.dynWake:
		case <-due:
			var res query.Result
			d.withRouter(func(r *query.Router) { res = r.Tick(time.Now()) })
			d.sendAll(res.Send)
			d.searches.deliver(res)
		}
		timer.Stop()
	}
}

// wakeDynamic tells dynamicLoop that a dynamic query may have started.
// It does not block.
func (d *Daemon) wakeDynamic() {
	select {
	case d.dynWake <- struct{}{}:
	default:
	}
}
