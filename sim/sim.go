package sim

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/servent-p2p/servent/query"
)

// GraphKind selects the generated flood topology.
type GraphKind string

// Graph kinds.
const (
	// GraphRandom is a random regular graph of degree Degree.
	GraphRandom GraphKind = "random"
	// GraphER is an Erdős–Rényi graph of mean degree Degree.
	GraphER GraphKind = "er"
	// GraphPowerLaw is a Barabási–Albert graph with m = Degree/2 (at least 1).
	GraphPowerLaw GraphKind = "powerlaw"
	// GraphMembership is the daemon's own topology over node names
	// (MemberName): flood neighbours by ultrapeer.Mesh over all names with
	// degree Degree, and in smart modes an election on equal capacities, so
	// ultrapeers are the first names. RunLive's networks have this shape.
	GraphMembership GraphKind = "membership"
)

// Config is one benchmark: a size sweep (or one topology file), the modes
// and TTLs to run on each size, and the shared workload.
type Config struct {
	// Nodes lists the network sizes (ignored with Topology).
	Nodes []int
	// Topology, when set, is an edge-list file: one network of its nodes.
	Topology string
	// Graph and Degree shape generated flood topologies (default random, 4).
	Graph  GraphKind
	Degree int
	// Modes to run, in order (default all).
	Modes []Mode
	// TTLs to run each mode at (default 7). Values 1..255.
	TTLs []int
	// Queries per run (default 200); Files distinct files (default 1000).
	Queries, Files int
	// Replication of files and popularity of queries (default uniform:3).
	Replication Replication
	// Latency of links (default constant 10ms) and Loss, the probability a
	// datagram is lost (default 0).
	Latency Latency
	Loss    float64
	// Seed makes runs reproducible: same Config, same Report, bit for bit.
	Seed uint64
	// Hierarchy shapes smart and qrp.
	Hierarchy HierarchyConfig
	// Progress, when set, is called at each stage and every few queries
	// from Run's goroutine.
	Progress func(Progress)
}

// Progress tells where a long Run is.
type Progress struct {
	Nodes   int
	Stage   string // "topology", "workload", "hierarchy", or a mode
	TTL     int
	Query   int
	Queries int
}

// querySpacing is the virtual time between the starts of two queries; a
// query whose flood is still running delays the next one.
const querySpacing = time.Second

func (c *Config) defaults() error {
	if len(c.Nodes) == 0 && c.Topology == "" {
		c.Nodes = []int{1000}
	}
	if c.Graph == "" {
		c.Graph = GraphRandom
	}
	if c.Degree == 0 {
		c.Degree = 4
	}
	if len(c.Modes) == 0 {
		c.Modes = AllModes
	}
	if len(c.TTLs) == 0 {
		c.TTLs = []int{7}
	}
	if c.Queries == 0 {
		c.Queries = 200
	}
	if c.Files == 0 {
		c.Files = 1000
	}
	if !c.Replication.Zipf && c.Replication.K == 0 {
		c.Replication.K = 3
	}
	if c.Latency == (Latency{}) {
		c.Latency = Latency{Kind: Constant, Min: 10 * time.Millisecond}
	}
	c.Hierarchy.defaults()
	switch {
	case !slices.Contains([]GraphKind{GraphRandom, GraphER, GraphPowerLaw, GraphMembership}, c.Graph):
		return fmt.Errorf("graph %q (want random, er, powerlaw or membership): %w", c.Graph, ErrSpec)
	case c.Degree < 1:
		return fmt.Errorf("degree %d: %w", c.Degree, ErrSpec)
	case c.Queries < 1 || c.Files < 1:
		return fmt.Errorf("%d queries, %d files: %w", c.Queries, c.Files, ErrSpec)
	case !(c.Loss >= 0 && c.Loss < 1):
		return fmt.Errorf("loss %g: %w", c.Loss, ErrSpec)
	}
	for _, t := range c.TTLs {
		if t < 1 || t > 255 {
			return fmt.Errorf("ttl %d: %w", t, ErrSpec)
		}
	}
	for _, n := range c.Nodes {
		if n < 2 || n > 10_000_000 {
			return fmt.Errorf("%d nodes: %w", n, ErrSpec)
		}
	}
	return nil
}

// Run runs the benchmark and returns one Row per size, mode and TTL, in
// that order. It checks ctx between queries. Run is deterministic in cfg
// (Progress aside) and uses up to GOMAXPROCS goroutines only to build the
// hierarchy; the simulation itself is single-threaded.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	rep := &Report{}
	maxTTL := uint8(max(7, slices.Max(cfg.TTLs)))
	sizes := cfg.Nodes
	var fileGraph *Graph
	if cfg.Topology != "" {
		f, err := os.Open(cfg.Topology)
		if err != nil {
			return nil, fmt.Errorf("topology: %w", err)
		}
		fileGraph, err = ReadEdgeList(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Topology, err)
		}
		sizes = []int{fileGraph.N()}
	}
	for _, n := range sizes {
		w := &world{cfg: &cfg, maxTTL: maxTTL, graph: fileGraph, progress: cfg.Progress}
		if err := w.build(n); err != nil {
			return nil, err
		}
		for _, m := range cfg.Modes {
			for _, ttl := range cfg.TTLs {
				row, err := w.run(ctx, m, ttl)
				if err != nil {
					return nil, err
				}
				rep.Rows = append(rep.Rows, row)
			}
		}
	}
	rep.Notes = notes(&cfg, maxTTL)
	return rep, nil
}

func notes(cfg *Config, maxTTL uint8) []string {
	out := []string{
		fmt.Sprintf("seed %d, %d queries per run, %d files %v, link latency %v, loss %g",
			cfg.Seed, cfg.Queries, cfg.Files, cfg.Replication, cfg.Latency, cfg.Loss),
		"messages/bytes: query datagrams sent by all nodes per query, duplicates included, hits excluded (hits/q: hit datagrams, every hop); bytes = descriptor + 1 plane byte, no UDP/IP header",
		"reached: distinct nodes that received the query (origin excluded); busiest: descriptors handled per query by the busiest node (max) and the 99th-percentile node",
	}
	if maxTTL > 7 {
		out = append(out, fmt.Sprintf("routers' MaxTTL raised from the protocol's 7 to %d for this run", maxTTL))
	}
	if slices.ContainsFunc(cfg.Modes, Mode.hierarchical) {
		h := cfg.Hierarchy
		out = append(out, fmt.Sprintf("smart/qrp/dynamic: the flood graph is not used; topology by the daemons' planner ultrapeer.NewPlan (leaves_per_ultrapeer %d, ultrapeers_per_leaf %d, max_leaves %d, mesh_degree %d); lower bound = ultrapeers - 1; unattached/short: leaves with no, or too few, ultrapeers",
			h.LeavesPerUltrapeer, h.UltrapeersPerLeaf, h.MaxLeaves, h.MeshDegree))
	}
	if slices.Contains(cfg.Modes, ModeDynamic) {
		d := query.DefaultDynamicConfig()
		out = append(out, fmt.Sprintf("dynamic: qrp plus dynamic querying by one ultrapeer of each leaf (chosen by the GUID): probe %d neighbours at TTL 2, then one neighbour per step (widening, then deepening) until %d distinct results, every neighbour queried with the query's TTL - 1, or a horizon of twice the ultrapeers; %v wait per TTL hop",
			d.Probe, d.Results, cfg.Latency.hopWait()))
	}
	return out
}
