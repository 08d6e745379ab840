package ultrapeer

import (
	"cmp"
	"slices"
	"sync"

	"github.com/servent-p2p/servent/role"
)

// Planner makes the plans of one member's successive views: each is the
// plan NewPlan gives for the view, but a view that changed little costs
// little. A view the election cannot tell from the last one (the same
// members with the same forced roles, incumbency, capacities, uptime
// steps and maturity, and no refusals) returns the last plan as it is;
// otherwise, while the elected set stays the same, each leaf's rendezvous
// order is computed only once (the bulk of NewPlan's work), so a member
// joining or leaving costs about the sorting of the view. A daemon calls
// it on every membership event and every tick. Safe for concurrent use.
type Planner struct {
	cfg PlanConfig

	mu     sync.Mutex
	key    []viewKey // of the last view; nil when it had refusals
	plan   Plan      // the last plan
	orders orderCache
}

// NewPlanner returns a Planner for cfg with nothing remembered.
func NewPlanner(cfg PlanConfig) *Planner {
	return &Planner{cfg: cfg}
}

// Plan returns NewPlan(view, cfg). The plan's maps and slices may be
// returned again by later calls: callers must not modify them. Blocks
// while another call plans.
func (p *Planner) Plan(view View) Plan {
	key := p.keyOf(view)
	p.mu.Lock()
	defer p.mu.Unlock()
	if view.Refused == nil && p.key != nil && slices.Equal(key, p.key) {
		return p.plan
	}
	p.plan = newPlan(view, p.cfg, &p.orders)
	p.key = nil
	if view.Refused == nil {
		p.key = key
	}
	return p.plan
}

// viewKey is what the election and the assignment read of one member:
// two views with equal keys, sorted by ID, give the same plan.
type viewKey struct {
	id        string
	forced    role.Role
	incumbent bool
	mature    bool
	capacity  float64
	score     float64
}

// keyOf returns view's key, sorted by ID.
func (p *Planner) keyOf(view View) []viewKey {
	key := make([]viewKey, len(view.Members))
	for i, c := range view.Members {
		key[i] = viewKey{
			id:        c.ID,
			forced:    c.Forced,
			incumbent: c.Incumbent,
			mature:    c.Uptime >= p.cfg.Election.MinUptime,
			capacity:  c.Capacity,
			score:     Score(c.Capacity, c.Uptime),
		}
	}
	slices.SortFunc(key, func(a, b viewKey) int { return cmp.Compare(a.id, b.id) })
	return key
}

// orderCache keeps each leaf's first rendezvous order, Attach(leaf,
// ultrapeers, want), for one ultrapeer set and one want. The zero value is
// empty; a nil *orderCache keeps nothing.
type orderCache struct {
	ultrapeers []string
	want       int
	byLeaf     map[string][]string
}

// fill sets the first order of every suitor in st (whose want is want):
// from the cache when it holds orders for the same ultrapeers and want,
// computed otherwise. The cache then holds exactly st's leaves.
func (c *orderCache) fill(st []suitor, ultrapeers []string, want int) {
	var todo []int
	if c == nil || c.want != want || !slices.Equal(c.ultrapeers, ultrapeers) {
		todo = make([]int, len(st))
		for i := range todo {
			todo[i] = i
		}
	} else {
		for i := range st {
			if o, ok := c.byLeaf[st[i].id]; ok {
				st[i].order = o
			} else {
				todo = append(todo, i)
			}
		}
	}
	firstOrders(st, todo, ultrapeers)
	if c == nil {
		return
	}
	c.ultrapeers, c.want = slices.Clone(ultrapeers), want
	c.byLeaf = make(map[string][]string, len(st))
	for _, s := range st {
		c.byLeaf[s.id] = s.order
	}
}
