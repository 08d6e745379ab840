package scale

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/internal/proc"
	"github.com/servent-p2p/servent/ultrapeer"
)

// The network of TestHundredServents.
const (
	hosts = 100
	// subnet is the loopback /24 the hosts listen in, 127.0.15.1..100,
	// each on the default port: no other test of the project uses it.
	subnet = "127.0.15."
	// settleLimit: the network must match the plan this long after the
	// last process has started.
	settleLimit = 60 * time.Second
	searches    = 50
	// startConcurrency: servents starting at once (each start is a burst
	// of CPU; a hundred at once on two cores starves their failure
	// detectors, which real hosts with a CPU each never see).
	startConcurrency = 2
)

// node is one servent of the network.
type node struct {
	name, dir string
	listen    string // 127.0.15.N:6346
	client    *api.Client
	proc      *proc.Process
}

func (n *node) keyword() string { return "quokka" + n.name[1:] }

// TestHundredServents starts 100 servents with the default settings (only
// SERVENT_DISCOVERY=false, and every host seeded with the first), as the
// issue's new user did, and asserts within 60 s of the last start: one
// membership of 100, the ultrapeer count the planner gives, every leaf
// attached to min(3, ultrapeers), every ultrapeer within max_leaves, and
// every node's roles and attachments equal to the planner's answer for the
// network's membership; then 50 searches from random origins for files
// on random other hosts all succeed.
func TestHundredServents(t *testing.T) {
	if testing.Short() {
		t.Skip("100 real servent processes: skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("needs the 127.0.0.0/8 loopback range of Linux")
	}
	ctx := context.Background()
	bin := os.Getenv("SCALE_SERVENT") // a prebuilt servent to test instead
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "servent")
		bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if err := proc.Build(bctx, filepath.Join("..", ".."), bin); err != nil {
			t.Fatal(err)
		}
	}
	nodes := make([]*node, hosts)
	base, err := os.MkdirTemp("", "servent-scale-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs kept in %s", base)
		} else {
			os.RemoveAll(base)
		}
	})
	for i := range nodes {
		name := fmt.Sprintf("h%03d", i+1)
		n := &node{name: name, dir: filepath.Join(base, name), listen: fmt.Sprintf("%s%d:6346", subnet, i+1)}
		if err := os.MkdirAll(filepath.Join(n.dir, "share"), 0o755); err != nil {
			t.Fatal(err)
		}
		body := []byte("the file of " + n.name + "\n")
		if err := os.WriteFile(filepath.Join(n.dir, "share", n.keyword()+" notes.txt"), body, 0o644); err != nil {
			t.Fatal(err)
		}
		n.client = api.NewClient(filepath.Join(n.dir, "data"))
		nodes[i] = n
	}
	t.Cleanup(func() { stopAll(t, nodes) })

	began := time.Now()
	if err := start(ctx, bin, nodes[0], ""); err != nil {
		t.Fatal(err)
	}
	seed := nodes[0].listen
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, startConcurrency)
	)
	for _, n := range nodes[1:] {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := start(ctx, bin, n, seed); err != nil {
				mu.Lock()
				firstErr = cmp(firstErr, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	lastStart := time.Now()
	t.Logf("%d servents started in %v", hosts, lastStart.Sub(began).Round(time.Millisecond))

	var plan ultrapeer.Plan
	err = eventually(ctx, settleLimit, func() (err error) {
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

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// start launches one servent with the defaults, seeded with seed.
func start(ctx context.Context, bin string, n *node, seed string) error {
	args := []string{"--data", filepath.Join(n.dir, "data"), "--share", filepath.Join(n.dir, "share"),
		"--name", n.name, "--listen", n.listen}
	if seed != "" {
		args = append(args, "--seed", seed)
	}
	p, err := proc.Start(ctx, proc.Options{
		Name: n.name, Binary: bin, Args: args,
		Env: []string{"SERVENT_DISCOVERY=false"},
		Log: filepath.Join(n.dir, "servent.log"),
		Ready: func(ctx context.Context) error {
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err := n.client.Status(rctx)
			return err
		},
		Poll: 100 * time.Millisecond,
	})
	n.proc = p
	return err
}

// stopAll stops every servent at once; a servent that needs SIGKILL fails
// the test.
func stopAll(t *testing.T, nodes []*node) {
	var wg sync.WaitGroup
	for _, n := range nodes {
		if n.proc == nil {
			continue
		}
		wg.Go(func() {
			if n.proc.Stop(10 * time.Second) {
				t.Errorf("%s ignored SIGTERM for 10 s: killed", n.name)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		for _, n := range nodes[:3] {
			t.Logf("%s log:\n%s", n.name, proc.LogTail(filepath.Join(n.dir, "servent.log"), 20))
		}
	}
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
		if st.Members != hosts {
			return ultrapeer.Plan{}, fmt.Errorf("%s sees %d members, want %d%s", st.Name, st.Members, hosts, missing(ctx, nodes, st.Name))
		}
		if st.Shares != 1 || st.Scanning {
			return ultrapeer.Plan{}, fmt.Errorf("%s: %d shares (scanning %v), want 1", st.Name, st.Shares, st.Scanning)
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
