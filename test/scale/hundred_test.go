package scale

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/ultrapeer"
)

// The network of TestHundredServents.
const (
	hosts = 100
	// subnet is the loopback /24 the hosts listen in, 127.0.15.1..100,
	// each on the default port: no other test of the project uses it
	// (BenchmarkIdle uses 127.0.16 and 127.0.17).
	subnet = "127.0.15."
	// settleLimit: the network must match the plan this long after the
	// last process has started.
	settleLimit = 60 * time.Second
	searches    = 50
)

// TestHundredServents starts 100 servents with the default settings (only
// SERVENT_DISCOVERY=false, and every host seeded with the first), as the
// issue's new user did, and asserts within 60 s of the last start: one
// membership of 100, the ultrapeer count the planner gives, every leaf
// attached to min(3, ultrapeers), every ultrapeer within max_leaves, and
// every node's roles and attachments equal to the planner's answer for the
// network's membership; then 50 searches from random origins for files
// on random other hosts all succeed.
func TestHundredServents(t *testing.T) {
	ctx := context.Background()
	nodes, lastStart := startNetwork(t, hosts, subnet)

	var plan ultrapeer.Plan
	err := eventually(ctx, settleLimit, func() (err error) {
		plan, err = matchesPlan(ctx, nodes)
		return err
	})
	if err != nil {
		t.Fatalf("not converged to the plan %v after the last start: %v", settleLimit, err)
	}
	t.Logf("converged %v after the last start: %d ultrapeers (planner count %d), each leaf on %d, most leaves on one ultrapeer %d",
		time.Since(lastStart).Round(time.Millisecond), len(plan.Ultrapeers), plan.Count, plan.PerLeaf, mostLeaves(plan))

	rng := rand.New(rand.NewPCG(15, uint64(time.Now().UnixNano())))
	searchStart := time.Now()
	for i := range searches {
		o, f := rng.IntN(hosts), rng.IntN(hosts-1)
		if f >= o {
			f++
		}
		if err := search(ctx, nodes[o], nodes[f]); err != nil {
			t.Errorf("search %d: %v", i, err)
		}
	}
	t.Logf("%d searches in %v", searches, time.Since(searchStart).Round(time.Millisecond))
}

// statuses reads every node's status (servent status --json), 8 at a time.
func statuses(ctx context.Context, nodes []*node) ([]api.Status, error) {
	out := make([]api.Status, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, n := range nodes {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			out[i], errs[i] = n.client.Status(rctx)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: status: %w", n.name, errs[i])
			}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// matchesPlan reads every status and checks it against the planner's
// answer for the network's membership as the statuses show it (equal
// capacities: one machine; the published roles as incumbents; the
// reported uptimes). It returns the plan, or what does not match yet.
func matchesPlan(ctx context.Context, nodes []*node) (ultrapeer.Plan, error) {
	sts, err := statuses(ctx, nodes)
	if err != nil {
		return ultrapeer.Plan{}, err
	}
	view := ultrapeer.View{}
	for _, st := range sts {
		if st.Members != len(nodes) {
			return ultrapeer.Plan{}, fmt.Errorf("%s sees %d members, want %d%s", st.Name, st.Members, len(nodes), missing(ctx, nodes, st.Name))
		}
		// Its one file, and its own binary (offer_self, on by default).
		if st.Shares != 2 || st.Scanning {
			return ultrapeer.Plan{}, fmt.Errorf("%s: %d shares (scanning %v), want 2: its file and its own binary", st.Name, st.Shares, st.Scanning)
		}
		view.Members = append(view.Members, ultrapeer.Candidate{
			ID: st.Name, Capacity: 100, Uptime: st.Uptime, Incumbent: st.Role == "ultrapeer",
		})
	}
	p := ultrapeer.NewPlan(view, ultrapeer.DefaultPlanConfig())
	if len(p.Ultrapeers) != p.Count {
		return p, fmt.Errorf("the plan elects %d ultrapeers, count %d", len(p.Ultrapeers), p.Count)
	}
	for _, st := range sts {
		wantRole := "leaf"
		if p.IsUltrapeer(st.Name) {
			wantRole = "ultrapeer"
		}
		switch {
		case !slices.Equal(st.Ultrapeers, p.Ultrapeers):
			return p, fmt.Errorf("%s: ultrapeers %v, plan %v", st.Name, st.Ultrapeers, p.Ultrapeers)
		case st.Role != wantRole:
			return p, fmt.Errorf("%s is %s, plan %s", st.Name, st.Role, wantRole)
		case wantRole == "leaf" && len(st.AttachedTo) != min(3, len(p.Ultrapeers)):
			return p, fmt.Errorf("leaf %s attached to %v, want %d ultrapeers", st.Name, st.AttachedTo, min(3, len(p.Ultrapeers)))
		case wantRole == "leaf" && !sameSet(st.AttachedTo, p.Attach[st.Name]):
			return p, fmt.Errorf("leaf %s attached to %v, plan %v", st.Name, st.AttachedTo, p.Attach[st.Name])
		case wantRole == "ultrapeer" && len(st.Leaves) > ultrapeer.DefaultMaxLeaves:
			return p, fmt.Errorf("ultrapeer %s holds %d leaves, max_leaves %d", st.Name, len(st.Leaves), ultrapeer.DefaultMaxLeaves)
		case wantRole == "ultrapeer" && !sameSet(st.Leaves, p.Leaves[st.Name]):
			return p, fmt.Errorf("ultrapeer %s holds %d leaves, plan %d", st.Name, len(st.Leaves), len(p.Leaves[st.Name]))
		case wantRole == "ultrapeer" && !sameSet(st.Mesh, p.Mesh[st.Name]):
			return p, fmt.Errorf("ultrapeer %s: mesh %v, plan %v", st.Name, st.Mesh, p.Mesh[st.Name])
		}
	}
	return p, nil
}

// missing says which hosts node name does not list as alive.
func missing(ctx context.Context, nodes []*node, name string) string {
	i := slices.IndexFunc(nodes, func(n *node) bool { return n.name == name })
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	peers, err := nodes[i].client.Peers(rctx)
	if err != nil {
		return ""
	}
	var out []string
	for _, n := range nodes {
		if !slices.ContainsFunc(peers, func(p api.Peer) bool { return p.Name == n.name && p.State == "alive" }) {
			out = append(out, n.name)
		}
	}
	return fmt.Sprintf(" (not alive there: %v)", out)
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func mostLeaves(p ultrapeer.Plan) int {
	most := 0
	for _, l := range p.Leaves {
		most = max(most, len(l))
	}
	return most
}

// search looks for holder's file from origin and wants holder among the
// sources.
func search(ctx context.Context, origin, holder *node) error {
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	found := false
	req := api.SearchRequest{Words: []string{holder.keyword()}, Timeout: 3 * time.Second, Max: 1}
	err := origin.client.Search(sctx, req, func(ev api.SearchEvent) {
		if ev.Result == nil || !strings.Contains(ev.Result.Name, holder.keyword()) {
			return
		}
		for _, s := range ev.Result.Sources {
			found = found || s.Name == holder.name
		}
	})
	switch {
	case err != nil:
		return fmt.Errorf("from %s for %s's file: %w", origin.name, holder.name, err)
	case !found:
		return fmt.Errorf("from %s: %s's file not found", origin.name, holder.name)
	}
	return nil
}

// eventually calls cond every second until it returns nil, or limit
// passes (then it returns cond's last error).
func eventually(ctx context.Context, limit time.Duration, cond func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
