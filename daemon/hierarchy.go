package daemon

import (
	"time"

	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
	"github.com/servent-p2p/servent/ultrapeer"
)

// hierarchyTick bounds how long a membership change waits to be acted on
// when no event arrives (uptime steps, a missed event).
const hierarchyTick = time.Second

// topology is the node's place in the hierarchy: its share of the plan
// computed from the membership view on every change.
type topology struct {
	role       role.Role
	ultrapeers []string       // the elected set (smart routing)
	neighbours []string       // ultrapeer mesh, or flood neighbours
	attach     []string       // a leaf's planned ultrapeers, in preference order
	leaves     []string       // an ultrapeer's planned leaves, sorted
	degrees    map[string]int // an ultrapeer's mesh neighbours' mesh degrees
	short      bool           // a leaf planned fewer ultrapeers than ultrapeers_per_leaf
}

func ultrapeerCapacity(cpus int, mem uint64) float64 {
	return ultrapeer.CapacityScore(cpus, mem, 0)
}

// planConfig translates the configuration keys that shape the topology.
func planConfig(c configs.Config) ultrapeer.PlanConfig {
	p := ultrapeer.DefaultPlanConfig()
	p.Election.LeavesPerUltrapeer = c.LeavesPerUltrapeer
	p.Election.UltrapeersPerLeaf = c.UltrapeersPerLeaf
	p.Election.MaxLeaves = c.MaxLeaves
	p.MeshDegree = c.MeshDegree
	p.Flood = c.Routing == "flood"
	p.FloodDegree = c.FloodDegree
	return p
}

// hierarchyLoop recomputes the topology on every membership event and
// every tick, publishes the role, and keeps leaf sessions and QRP links
// in line with it. It returns when the daemon stops.
func (d *Daemon) hierarchyLoop() {
	tick := time.NewTicker(hierarchyTick)
	defer tick.Stop()
	defer d.leaves.wait()
	defer d.qrp.wait()
	d.applyTopology(d.computeTopology())
	for {
		select {
		case <-d.ctx.Done():
			return
		case ev := <-d.ov.Events():
			d.memberEvent(ev)
			d.drainMemberEvents()
		case <-tick.C:
		case <-d.kick:
		case <-d.catalogDirty:
			d.publishCatalog()
		}
		d.applyTopology(d.computeTopology())
	}
}

// maxCoalescedEvents bounds how many queued membership events one replan
// takes in.
const maxCoalescedEvents = 256

// memberEvent acts on one membership event before the replan.
func (d *Daemon) memberEvent(ev overlay.Event) {
	if ev.Kind == overlay.EventLeave {
		d.indexes.memberLeft(ev.Member.Name)
	}
}

// drainMemberEvents takes in the events already queued, so that a burst
// (a join gossiped with the role changes it causes) costs one replan
// instead of one per event.
func (d *Daemon) drainMemberEvents() {
	for range maxCoalescedEvents {
		select {
		case ev := <-d.ov.Events():
			d.memberEvent(ev)
		default:
			return
		}
	}
}

// view is the membership as the planner takes it, at now (viewOf).
func (d *Daemon) view(now time.Time) ultrapeer.View {
	return viewOf(d.ov.Members(), now, d.ov.Name(), d.leaves.refusedAt(now))
}

// viewOf is the membership as the planner takes it, at now: the live
// (alive or suspect) members with the uptimes, forced roles and roles
// they publish, and the ultrapeers that refused self, a leaf, recently.
// Pure.
func viewOf(members []overlay.Member, now time.Time, self string, refused map[string]bool) ultrapeer.View {
	v := ultrapeer.View{Members: make([]ultrapeer.Candidate, 0, len(members))}
	for _, m := range members {
		if m.State != overlay.StateAlive && m.State != overlay.StateSuspect {
			continue
		}
		c := ultrapeer.Candidate{
			ID:        m.Name,
			Capacity:  float64(m.Meta.Capacity),
			Uptime:    now.Sub(m.Meta.Started),
			Forced:    ultrapeer.ForcedRole(m.Meta.Capacity),
			Incumbent: m.Meta.Role == role.Ultrapeer,
		}
		v.Members = append(v.Members, c)
	}
	if len(refused) > 0 {
		v.Refused = func(leaf, up string) bool { return leaf == self && refused[up] }
	}
	return v
}

// computeTopology runs the planner on the current membership view (an
// unchanged view, the common case on a tick, costs no planning).
func (d *Daemon) computeTopology() topology {
	return topologyOf(d.planner.Plan(d.view(time.Now())), d.ov.Name(), d.cfg.Routing == "flood")
}

// topologyOf is self's share of plan p: its role, its mesh or flood
// neighbours, and its leaves (an ultrapeer) or its ultrapeers (a leaf).
// Pure.
func topologyOf(p ultrapeer.Plan, self string, flood bool) topology {
	if flood {
		return topology{role: role.Flood, neighbours: p.Mesh[self]}
	}
	t := topology{role: role.Leaf, ultrapeers: p.Ultrapeers}
	if p.IsUltrapeer(self) {
		t.role = role.Ultrapeer
		t.neighbours, t.leaves = p.Mesh[self], p.Leaves[self]
		t.degrees = make(map[string]int, len(t.neighbours))
		for _, n := range t.neighbours {
			t.degrees[n] = len(p.Mesh[n])
		}
	} else {
		t.attach = p.Attach[self]
		t.short = len(t.attach) < p.PerLeaf
	}
	return t
}

// applyTopology publishes a role change and hands the topology to the
// routing core, the leaf sessions and the QRP links.
func (d *Daemon) applyTopology(t topology) {
	d.topoMu.Lock()
	old := d.topo
	d.topo = t
	d.topoMu.Unlock()
	if t.short && !old.short {
		d.log.Warn("too few ultrapeers for this leaf", "planned", len(t.attach), "ultrapeers", len(t.ultrapeers), "want", d.cfg.UltrapeersPerLeaf)
	}
	if old.role != t.role || d.ov.Meta().Shares != uint64(d.store.Count()) {
		if old.role != t.role {
			d.log.Info("role", "now", t.role, "was", old.role, "ultrapeers", len(t.ultrapeers))
		}
		d.publishMeta(t.role)
	}
	if t.role != role.Ultrapeer {
		d.indexes.dropAll()
	}
	d.leaves.sync(t.attach)
	d.qrp.sync(t.role, t.neighbours)
	d.updateRouter()
}

// updateRouter gives the routing core the current neighbours, attached
// ultrapeers and leaves.
func (d *Daemon) updateRouter() {
	d.topoMu.Lock()
	t := d.topo
	d.topoMu.Unlock()
	neighbours, attached, leaves := peerIDs(t.neighbours), peerIDs(d.leaves.attached()), peerIDs(d.registry.Leaves())
	// A correct neighbour forwards at most every origin's queries once:
	// query_rate per member, whatever the topology.
	members := float64(max(1, d.ov.NumMembers()))
	linkRate := d.cfg.QueryRate * members
	degrees := make(map[query.PeerID]int, len(t.degrees))
	for n, deg := range t.degrees {
		degrees[query.PeerID(n)] = deg
	}
	d.withRouter(func(r *query.Router) {
		r.SetTopology(t.role, neighbours, attached, leaves)
		r.SetNeighbourDegrees(degrees)
		r.SetMeshSize(len(t.ultrapeers))
		r.SetLinkLimit(linkRate, query.Burst(linkRate))
	})
}

func (d *Daemon) publishMeta(r role.Role) {
	m := d.ov.Meta()
	m.Role = r
	m.Capacity = d.capacity()
	m.Shares = uint64(d.store.Count())
	if err := d.ov.SetMeta(m); err != nil {
		d.log.Debug("publish metadata", "err", err)
	}
}

func peerIDs(names []string) []query.PeerID {
	out := make([]query.PeerID, len(names))
	for i, n := range names {
		out[i] = query.PeerID(n)
	}
	return out
}
