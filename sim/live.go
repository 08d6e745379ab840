package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/query"
)

// LiveConfig is a live benchmark: Nodes real servents, one network per mode
// and TTL, running the workload a Config with the same Nodes, Files,
// Queries, Replication and Seed would simulate.
type LiveConfig struct {
	// Nodes: servent processes, named MemberName(0..Nodes-1), listening on
	// 127.0.0.2, 127.0.0.3, ... (2..200).
	Nodes int
	// Modes: flood and/or smart (default both; qrp is not run live).
	Modes []Mode
	// TTLs: the TTL every node originates with (default 4).
	TTLs []int
	// Queries (default 20), Files (default 100), Replication (default
	// uniform:3) and Seed: the simulator's workload generator.
	Queries, Files int
	Replication    Replication
	Seed           uint64
	// FloodDegree (default 4) and Hierarchy: the daemons' flood_degree,
	// leaves_per_ultrapeer, ultrapeers_per_leaf and mesh_degree.
	FloodDegree int
	Hierarchy   HierarchyConfig
	// Binary is the servent executable (default os.Executable()).
	Binary string
	// Dir is where the temporary node folders are made (default os.TempDir()).
	Dir string
	// Port of every node (default 6346; 0: any free port).
	Port int
	// Timeout of each search (default 1s). Deadline bounds the whole run
	// (default 10 minutes).
	Timeout, Deadline time.Duration
	// Progress, when set, is called at each stage and query.
	Progress func(Progress)
}

func (c *LiveConfig) defaults() error {
	if len(c.Modes) == 0 {
		c.Modes = []Mode{ModeFlood, ModeSmart}
	}
	c.Modes = slices.DeleteFunc(slices.Clone(c.Modes), func(m Mode) bool { return m == ModeQRP || m == ModeDynamic })
	if len(c.TTLs) == 0 {
		c.TTLs = []int{4}
	}
	if c.Queries == 0 {
		c.Queries = 20
	}
	if c.Files == 0 {
		c.Files = 100
	}
	if !c.Replication.Zipf && c.Replication.K == 0 {
		c.Replication.K = 3
	}
	if c.FloodDegree == 0 {
		c.FloodDegree = 4
	}
	c.Hierarchy.defaults()
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrLive, err)
		}
		c.Binary = exe
	}
	if c.Timeout == 0 {
		c.Timeout = time.Second
	}
	if c.Deadline == 0 {
		c.Deadline = 10 * time.Minute
	}
	switch {
	case c.Nodes < 2 || c.Nodes > 199:
		return fmt.Errorf("live: %d nodes (want 2..199): %w", c.Nodes, ErrSpec)
	case len(c.Modes) == 0:
		return fmt.Errorf("live: only flood and smart run live: %w", ErrSpec)
	case c.Queries < 1 || c.Files < 1 || c.FloodDegree < 1:
		return fmt.Errorf("live: %d queries, %d files, flood degree %d: %w", c.Queries, c.Files, c.FloodDegree, ErrSpec)
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("live: port %d: %w", c.Port, ErrSpec)
	case c.Timeout < 100*time.Millisecond:
		return fmt.Errorf("live: search timeout %v (want >= 100ms): %w", c.Timeout, ErrSpec)
	}
	for _, t := range c.TTLs {
		if t < 1 || t > 7 {
			return fmt.Errorf("live: ttl %d (the daemon takes 1..7): %w", t, ErrSpec)
		}
	}
	return nil
}

// liveLatency is the link model of the simulation a live run is compared
// with. On loopback, the order in which copies of a query arrive is set by
// scheduling, not distance: a copy that went round two hops often beats the
// direct one, and a node that first hears a query with less TTL left, or
// from a neighbour it then skips, forwards fewer copies. Heavy-tailed
// per-link latencies (1 ms plus an exponential of mean 10 ms) reproduce
// that; a constant latency always delivers along shortest paths first and
// overstates the flood by 10–40% where the TTL runs out (measured at 30
// nodes: docs/BENCHMARKS.md, "Live cross-check").
var liveLatency = Latency{Kind: Exponential, Min: time.Millisecond, Max: 10 * time.Millisecond}

// SimConfig is the simulation of the same networks: GraphMembership over
// the same names, the same workload and hierarchy settings, links of
// 1 ms plus an exponential of mean 10 ms latency.
func (c LiveConfig) SimConfig() Config {
	_ = c.defaults()
	return Config{
		Nodes: []int{c.Nodes}, Graph: GraphMembership, Degree: c.FloodDegree,
		Modes: c.Modes, TTLs: c.TTLs, Queries: c.Queries, Files: c.Files,
		Replication: c.Replication, Seed: c.Seed, Hierarchy: c.Hierarchy,
		Latency: liveLatency,
	}
}

// RunLive starts the servents of each mode and TTL in turn, waits until
// their overlay has the topology the daemon's rules give (the one
// GraphMembership simulates), runs the workload one query at a time
// through the origins' control APIs and reports one Row per mode and TTL
// from the routers' counters. It blocks until done, the deadline passes or
// ctx ends; every process and folder it made is gone when it returns.
func RunLive(ctx context.Context, cfg LiveConfig) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()
	w := &world{ids: make([]query.PeerID, cfg.Nodes)}
	for i := range w.ids {
		w.ids[i] = query.PeerID(strconv.Itoa(i))
	}
	work, err := newWorkload(cfg.Nodes, cfg.Files, cfg.Queries, cfg.Replication, rand.New(rand.NewPCG(cfg.Seed, 2)))
	if err != nil {
		return nil, err
	}
	w.work = work
	rep := &Report{Notes: []string{
		fmt.Sprintf("live: %d servent processes on 127.0.0.2..%d, seed %d, %d queries, %d files %v, search timeout %v",
			cfg.Nodes, cfg.Nodes+1, cfg.Seed, cfg.Queries, cfg.Files, cfg.Replication, cfg.Timeout),
		"live: messages, hits and dups from the routers' counters, divided by the searches' originations (the daemon re-sends a search with no hit after 35% of its timeout); bytes and first-hit hops are not measured live",
	}}
	for _, m := range cfg.Modes {
		for _, ttl := range cfg.TTLs {
			row, err := runLiveNetwork(ctx, &cfg, w, m, ttl)
			if err != nil {
				return nil, err
			}
			rep.Rows = append(rep.Rows, row)
		}
	}
	return rep, nil
}

// liveNet is one running network of a live run.
type liveNet struct {
	cfg   *LiveConfig
	w     *world
	mode  Mode
	nodes []*liveNode
}

// runLiveNetwork makes, starts, settles and measures one network, and
// tears it down whatever happens.
func runLiveNetwork(ctx context.Context, cfg *LiveConfig, w *world, m Mode, ttl int) (Row, error) {
	base, err := os.MkdirTemp(cfg.Dir, "servent-live-")
	if err != nil {
		return Row{}, fmt.Errorf("%w: %w", ErrLive, err)
	}
	ln := &liveNet{cfg: cfg, w: w, mode: m}
	defer func() {
		ln.stop()
		os.RemoveAll(base)
	}()
	report := func(stage string) {
		if cfg.Progress != nil {
			cfg.Progress(Progress{Nodes: cfg.Nodes, Stage: stage, TTL: ttl})
		}
	}
	report("live " + string(m) + ": start")
	if err := ln.start(ctx, base, ttl); err != nil {
		return Row{}, err
	}
	report("live " + string(m) + ": settle")
	if err := ln.settle(ctx); err != nil {
		return Row{}, err
	}
	return ln.measure(ctx, ttl)
}

// env is the configuration every node of the network shares.
func (ln *liveNet) env(ttl int) []string {
	c := ln.cfg
	return []string{
		"SERVENT_DISCOVERY=false",
		"SERVENT_ROUTING=" + map[Mode]string{ModeFlood: "flood", ModeSmart: "smart"}[ln.mode],
		"SERVENT_TTL=" + strconv.Itoa(ttl),
		"SERVENT_LEAVES_PER_ULTRAPEER=" + strconv.Itoa(c.Hierarchy.LeavesPerUltrapeer),
		"SERVENT_ULTRAPEERS_PER_LEAF=" + strconv.Itoa(c.Hierarchy.UltrapeersPerLeaf),
		"SERVENT_MESH_DEGREE=" + strconv.Itoa(c.Hierarchy.MeshDegree),
		"SERVENT_FLOOD_DEGREE=" + strconv.Itoa(c.FloodDegree),
		"SERVENT_LAST_HOP_QRP=false",
		"SERVENT_QUERY_RATE=10000",
		"SERVENT_MAX_LEAVES=" + strconv.Itoa(c.Hierarchy.MaxLeaves),
		"SERVENT_CAPACITY=100",
		"SERVENT_OFFER_SELF=false", // the workload's files only
	}
}

// start writes each node's shares and starts the nodes one after the
// other, each joining through the first and waiting until it sees all
// earlier ones: joining in name order keeps the election's incumbents the
// first names, as the simulation elects them.
func (ln *liveNet) start(ctx context.Context, base string, ttl int) error {
	env := ln.env(ttl)
	seed := ""
	for i := range ln.cfg.Nodes {
		n := &liveNode{name: MemberName(i), dir: filepath.Join(base, MemberName(i))}
		ln.nodes = append(ln.nodes, n)
		if err := ln.writeShares(i); err != nil {
			return err
		}
		addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)}), uint16(ln.cfg.Port))
		args := []string{"--listen", addr.String()}
		if seed != "" {
			args = append(args, "--seed", seed)
		}
		if err := n.start(ctx, ln.cfg.Binary, args, env); err != nil {
			return err
		}
		st, err := n.waitStatus(ctx, liveReady, func(s api.Status) error {
			if s.Members < i+1 {
				return fmt.Errorf("sees %d of %d members", s.Members, i+1)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if i == 0 {
			seed = st.Listen
		}
	}
	return nil
}

// writeShares writes node i's files of the workload, small and with the
// same bytes on every holder.
func (ln *liveNet) writeShares(i int) error {
	n := ln.nodes[i]
	dir := filepath.Join(n.shareDir(), "music")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%w: %w", ErrLive, err)
	}
	if err := os.MkdirAll(n.dataDir(), 0o700); err != nil {
		return fmt.Errorf("%w: %w", ErrLive, err)
	}
	for _, fi := range ln.w.work.nodeFiles[i] {
		name := filepath.Join(n.shareDir(), filepath.FromSlash(ln.w.work.files[fi].name))
		if err := os.WriteFile(name, []byte("servent live bench file "+fileKeyword(int(fi))+"\n"), 0o644); err != nil {
			return fmt.Errorf("%w: %w", ErrLive, err)
		}
	}
	return nil
}

// stop stops every node at once and waits for all.
func (ln *liveNet) stop() {
	var wg sync.WaitGroup
	for _, n := range ln.nodes {
		wg.Go(n.stop)
	}
	wg.Wait()
}
