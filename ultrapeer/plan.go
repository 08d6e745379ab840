package ultrapeer

import (
	"slices"
)

// PlanConfig is everything that shapes a network's topology. Every member
// of one network must use the same values.
type PlanConfig struct {
	// Election: the ultrapeer count (LeavesPerUltrapeer, UltrapeersPerLeaf,
	// MaxLeaves) and who is elected (MinCapacity, Hysteresis, MinUptime).
	Election ElectionConfig
	// MeshDegree is the ultrapeer mesh degree (mesh_degree); < 2 counts
	// as 2.
	MeshDegree int
	// Flood plans flat-flood routing (routing: flood): no ultrapeers, every
	// member linked to FloodDegree others by the same construction as the
	// mesh.
	Flood bool
	// FloodDegree is the flood graph degree (flood_degree).
	FloodDegree int
}

// DefaultPlanConfig returns the defaults of configs/servent.yaml: the
// default election, smart routing, mesh degree 8.
func DefaultPlanConfig() PlanConfig {
	return PlanConfig{Election: DefaultElectionConfig(), MeshDegree: DefaultMeshDegree, FloodDegree: DefaultFloodDegree}
}

// Mesh defaults, as in configs/servent.yaml.
const (
	DefaultMeshDegree  = 8
	DefaultFloodDegree = 4
)

// View is one member's view of the network at one moment: the membership
// with the uptimes it computes (time is passed in as Candidate.Uptime), and
// what it knows of refusals.
type View struct {
	// Members is the membership, the viewer included. IDs must not repeat.
	Members []Candidate
	// Refused reports whether ultrapeer refused leaf recently, so that the
	// plan attaches the leaf elsewhere. Only a leaf knows its own refusals;
	// nil means none.
	Refused func(leaf, ultrapeer string) bool
}

// Plan is the topology of a network as every member derives it from its
// view: roles, the mesh, and which leaf attaches to which ultrapeers.
type Plan struct {
	// Count is the ultrapeer count the configuration asks for
	// (ElectionConfig.Count); Ultrapeers is shorter only when too few
	// members are eligible. 0 in flood routing.
	Count int
	// PerLeaf is the number of ultrapeers a leaf should have:
	// min(UltrapeersPerLeaf, len(Ultrapeers)).
	PerLeaf int
	// Ultrapeers is the elected set, sorted; nil in flood routing.
	Ultrapeers []string
	// Mesh maps each ultrapeer (every member, in flood routing) to its
	// neighbours, sorted.
	Mesh map[string][]string
	// Attach maps each leaf to its ultrapeers, in the leaf's rendezvous
	// order (heaviest first). A leaf with fewer than PerLeaf is
	// under-attached (see Short).
	Attach map[string][]string
	// Leaves maps each ultrapeer to its leaves, sorted; never more than
	// MaxLeaves.
	Leaves map[string][]string
}

// NewPlan computes the topology of view: Elect for the roles, MeshGraph for
// the mesh, Assign for the attachments. It is a pure function: no sockets,
// no clock; every member computing it from the same view gets the same
// plan, and the daemons converge to it. O(members * ultrapeers) in the
// worst case, O(members * (k + log members)) when the cap binds nowhere.
// Safe for concurrent use when view.Refused is.
func NewPlan(view View, cfg PlanConfig) Plan {
	return newPlan(view, cfg, nil)
}

// newPlan is NewPlan with the leaves' rendezvous orders kept in orders
// (nil: none kept).
func newPlan(view View, cfg PlanConfig, orders *orderCache) Plan {
	ids := make([]string, len(view.Members))
	for i, c := range view.Members {
		ids[i] = c.ID
	}
	slices.Sort(ids)
	if cfg.Flood {
		return Plan{Mesh: MeshGraph(ids, cfg.FloodDegree)}
	}
	ups := Elect(view.Members, cfg.Election)
	p := Plan{
		Count:      cfg.Election.Count(len(view.Members)),
		PerLeaf:    min(cfg.Election.perLeaf(), len(ups)),
		Ultrapeers: ups,
		Mesh:       MeshGraph(ups, cfg.MeshDegree),
	}
	leaves := make([]string, 0, len(ids)-len(ups))
	for _, id := range ids {
		if _, isUP := slices.BinarySearch(ups, id); !isUP {
			leaves = append(leaves, id)
		}
	}
	p.Attach, p.Leaves = assign(leaves, ups, p.PerLeaf, cfg.Election.MaxLeaves, view.Refused, orders)
	return p
}

// IsUltrapeer reports whether id is in the elected set.
func (p *Plan) IsUltrapeer(id string) bool {
	_, ok := slices.BinarySearch(p.Ultrapeers, id)
	return ok
}

// Short returns the leaves with fewer than PerLeaf ultrapeers, sorted: none
// unless members were too few to elect Count ultrapeers, or refusals
// ruled out too many.
func (p *Plan) Short() []string {
	var out []string
	for l, ups := range p.Attach {
		if len(ups) < p.PerLeaf {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}
