package daemon

import (
	"math"
	"slices"
	"time"

	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/ultrapeer"
)

// forcedUltrapeerCapacity is the capacity a node forced to be an ultrapeer
// publishes; a forced leaf publishes 0. Every member's election reads the
// forced roles back from these values.
const forcedUltrapeerCapacity = math.MaxFloat32

// hierarchyTick bounds how long a membership change waits to be acted on
// when no event arrives (uptime steps, a missed event).
const hierarchyTick = time.Second

// topology is the node's place in the hierarchy, recomputed from the
// membership view on every change.
type topology struct {
	role       overlay.Role
	ultrapeers []string // the elected set (smart routing)
	neighbours []string // ultrapeer mesh, or flood neighbours
	attach     []string // a leaf's chosen ultrapeers, in preference order
}

func ultrapeerCapacity(cpus int, mem uint64) float64 {
	return ultrapeer.CapacityScore(cpus, mem, 0)
}

// hierarchyLoop recomputes the topology on every membership event and
// every tick, publishes the role, and keeps leaf sessions and QRP links
// in line with it. It returns when the daemon stops.
func (d *Daemon) hierarchyLoop() {
	tick := time.NewTicker(hierarchyTick)
	defer tick.Stop()
	d.applyTopology(d.computeTopology())
	for {
		select {
		case <-d.ctx.Done():
			return
		case ev := <-d.ov.Events():
			if ev.Kind == overlay.EventLeave {
				d.memberLeft(ev.Member.Name)
			}
		case <-tick.C:
		case <-d.kick:
		case <-d.catalogDirty:
			d.publishCatalog()
		}
		d.applyTopology(d.computeTopology())
	}
}

// computeTopology runs the election on the current membership view.
func (d *Daemon) computeTopology() topology {
	self := d.ov.Name()
	members := d.ov.Members()
	names := make([]string, 0, len(members))
	for _, m := range members {
		if m.State == overlay.StateAlive || m.State == overlay.StateSuspect {
			names = append(names, m.Name)
		}
	}
	slices.Sort(names)
	if d.cfg.Routing == "flood" {
		return topology{role: overlay.RoleFlood, neighbours: ultrapeer.Mesh(self, names, d.cfg.FloodDegree)}
	}
	now := time.Now()
	cands := make([]ultrapeer.Candidate, 0, len(members))
	for _, m := range members {
		if !slices.Contains(names, m.Name) {
			continue
		}
		c := ultrapeer.Candidate{
			ID:        m.Name,
			Capacity:  float64(m.Meta.Capacity),
			Uptime:    now.Sub(m.Meta.Started),
			Incumbent: m.Meta.Role == overlay.RoleUltrapeer,
		}
		switch {
		case m.Meta.Capacity <= 0:
			c.Forced = ultrapeer.RoleLeaf
		case m.Meta.Capacity >= forcedUltrapeerCapacity:
			c.Forced = ultrapeer.RoleUltrapeer
		}
		cands = append(cands, c)
	}
	ec := ultrapeer.DefaultElectionConfig()
	ec.LeavesPerUltrapeer = d.cfg.LeavesPerUltrapeer
	ups := ultrapeer.Elect(cands, ec)
	t := topology{role: overlay.RoleLeaf, ultrapeers: ups}
	if slices.Contains(ups, self) {
		t.role = overlay.RoleUltrapeer
		t.neighbours = ultrapeer.Mesh(self, ups, d.cfg.MeshDegree)
	} else {
		// The whole preference order: refusals walk down it.
		t.attach = ultrapeer.Attach(self, ups, len(ups))
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
	if old.role != t.role || d.ov.Meta().Shares != uint64(d.store.Count()) {
		if old.role != t.role {
			d.log.Info("role", "now", t.role, "was", old.role, "ultrapeers", len(t.ultrapeers))
		}
		d.publishMeta(t.role)
	}
	if t.role != overlay.RoleUltrapeer {
		d.dropAllLeaves()
	}
	d.leaves.sync(t)
	d.qrp.sync(t)
	d.updateRouter()
}

// updateRouter gives the routing core the current neighbours, attached
// ultrapeers and leaves.
func (d *Daemon) updateRouter() {
	d.topoMu.Lock()
	t := d.topo
	d.topoMu.Unlock()
	role := query.Leaf
	if t.role == overlay.RoleUltrapeer || t.role == overlay.RoleFlood {
		role = query.Ultrapeer
	}
	neighbours, attached, leaves := peerIDs(t.neighbours), peerIDs(d.leaves.attached()), peerIDs(d.registry.Leaves())
	d.withRouter(func(r *query.Router) { r.SetTopology(role, neighbours, attached, leaves) })
}

func (d *Daemon) publishMeta(role overlay.Role) {
	m := d.ov.Meta()
	m.Role = role
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
