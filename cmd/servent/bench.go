package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/servent-p2p/servent/sim"
)

// benchFlags are the flags of `servent bench`, as typed.
type benchFlags struct {
	nodes, mode, ttl, topology, graph string
	replication, latency, format      string
	plot                              string
	degree, queries, files            int
	live, leavesPerUP, meshDegree     int
	maxLeaves                         int
	loss                              float64
	seed                              uint64
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark flat flood against smart flood on a simulated network",
		Long: `bench simulates a network of virtual nodes, each running the real query
router (and, in smart modes, the real ultrapeer election, attachment, mesh and
index registry), on a virtual clock, and reports per mode and TTL the messages,
bytes, reach, recall, first-hit hops and latency, and busiest-node load per
query. Same --seed, same numbers.

Modes: flood (Gnutella 0.4 on the --graph or --topology), smart (ultrapeers,
leaves, mesh; the graph is not used), qrp (smart + last-hop QRP), dynamic
(qrp + dynamic querying: a leaf's ultrapeer widens only while too few
results came back), all.

With --live N, bench starts N real servents (this binary, "servent run") on
127.0.0.2.. with temporary data and share folders holding the workload's
files, waits until their overlay has settled, runs the queries one at a time
through the origins' control APIs, and reports the table from the routers'
counters, each live row followed by the simulation of the same names, rules
and workload (--graph membership) for comparison. Modes flood and smart;
defaults 20 queries, 100 files. Every process and folder is removed on exit,
also on Ctrl-C.`,
		Example: `  servent bench --nodes 100,1k,10k,100k --mode all --queries 200
  servent bench --topology p2p-Gnutella08.txt --mode flood --ttl 1..7 --queries 2000
  servent bench --nodes 10000 --ttl 1..7 --format markdown --plot bench.svg
  servent bench --live 30 --mode flood,smart --ttl 4 --leaves-per-ultrapeer 4`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.nodes, "nodes", "1000", "network sizes, comma-separated (k, M suffixes)")
	fl.StringVar(&f.mode, "mode", "all", "flood, smart, qrp, dynamic or all (comma-separated list allowed)")
	fl.StringVar(&f.ttl, "ttl", "7", "TTLs: 7, 1..7 or 1,2,3")
	fl.StringVar(&f.topology, "topology", "", "edge-list file (FROM TO per line) for flood; overrides --nodes")
	fl.StringVar(&f.graph, "graph", "random", "generated flood graph: random (regular), er, powerlaw or membership (the daemon's rules)")
	fl.IntVar(&f.degree, "degree", 4, "degree of the generated graph (powerlaw: m = degree/2; live: flood_degree)")
	fl.IntVar(&f.leavesPerUP, "leaves-per-ultrapeer", 30, "members per elected ultrapeer (smart, qrp, dynamic)")
	fl.IntVar(&f.maxLeaves, "max-leaves", 0, "most leaves per ultrapeer (smart, qrp, dynamic; 0: 120, or the average load when more)")
	fl.IntVar(&f.meshDegree, "mesh-degree", 8, "ultrapeer mesh degree (smart, qrp, dynamic)")
	fl.IntVar(&f.live, "live", 0, "run N real servents on 127.0.0.x instead of simulating (and compare)")
	fl.IntVar(&f.queries, "queries", 200, "queries per run")
	fl.IntVar(&f.files, "files", 1000, "distinct files")
	fl.StringVar(&f.replication, "replication", "uniform:3", "uniform:K copies per file, or zipf[:S]")
	fl.StringVar(&f.latency, "latency", "10ms", "link latency: 10ms, uniform:5ms-50ms or exp:2ms+10ms")
	fl.Float64Var(&f.loss, "loss", 0, "datagram loss probability")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed")
	fl.StringVar(&f.format, "format", "table", "table, csv, json or markdown")
	fl.StringVar(&f.plot, "plot", "", "also plot to FILE.svg or FILE.png")
	return cmd
}

// config turns the flags into a sim.Config; errors wrap errUsage.
func (f *benchFlags) config(cmd *cobra.Command) (sim.Config, error) {
	cfg := sim.Config{
		Topology: f.topology, Graph: sim.GraphKind(f.graph), Degree: f.degree,
		Queries: f.queries, Files: f.files, Loss: f.loss, Seed: f.seed,
		Hierarchy: sim.HierarchyConfig{LeavesPerUltrapeer: f.leavesPerUP, MaxLeaves: f.maxLeaves, MeshDegree: f.meshDegree},
	}
	var err error
	parse := func(name string, p func() error) {
		if err == nil {
			if e := p(); e != nil {
				err = fmt.Errorf("%w: --%s: %v", errUsage, name, e)
			}
		}
	}
	if f.topology == "" || cmd.Flags().Changed("nodes") {
		parse("nodes", func() (e error) { cfg.Nodes, e = sim.ParseNodes(f.nodes); return })
	}
	parse("mode", func() (e error) { cfg.Modes, e = sim.ParseModes(f.mode); return })
	parse("ttl", func() (e error) { cfg.TTLs, e = sim.ParseTTLs(f.ttl); return })
	parse("replication", func() (e error) { cfg.Replication, e = sim.ParseReplication(f.replication); return })
	parse("latency", func() (e error) { cfg.Latency, e = sim.ParseLatency(f.latency); return })
	parse("format", func() error { return (&sim.Report{}).Render(io.Discard, f.format) })
	parse("plot", func() error { return sim.CheckPlotPath(f.plot) })
	return cfg, err
}

// liveConfig turns the flags and their sim.Config into a live run; the
// sim's default workload size is cut to what real searches afford unless
// given.
func (f *benchFlags) liveConfig(cmd *cobra.Command, cfg sim.Config) sim.LiveConfig {
	lc := sim.LiveConfig{
		Nodes: f.live, Modes: cfg.Modes, TTLs: cfg.TTLs, Replication: cfg.Replication,
		Seed: cfg.Seed, FloodDegree: f.degree, Hierarchy: cfg.Hierarchy,
	}
	if cmd.Flags().Changed("queries") {
		lc.Queries = f.queries
	}
	if cmd.Flags().Changed("files") {
		lc.Files = f.files
	}
	if !cmd.Flags().Changed("mode") {
		lc.Modes = nil
	}
	return lc
}

// runLive runs the live benchmark and its simulation.
func runLive(ctx context.Context, lc sim.LiveConfig) (*sim.Report, error) {
	live, err := sim.RunLive(ctx, lc)
	if err != nil {
		return nil, err
	}
	simulated, err := sim.Run(ctx, lc.SimConfig())
	if err != nil {
		return nil, err
	}
	return sim.CrossCheck(live, simulated), nil
}

func runBench(cmd *cobra.Command, f *benchFlags) error {
	cfg, err := f.config(cmd)
	if err != nil {
		return err
	}
	progress := newBenchProgress(cmd.ErrOrStderr())
	cfg.Progress = progress.update
	ctx, stop := signalContext()
	defer stop()
	var rep *sim.Report
	if f.live > 0 && (f.topology != "" || cmd.Flags().Changed("nodes") || cmd.Flags().Changed("graph")) {
		return fmt.Errorf("%w: --live N names its own nodes and topology: drop --nodes, --graph and --topology", errUsage)
	}
	if f.live > 0 {
		lc := f.liveConfig(cmd, cfg)
		lc.Progress = progress.update
		rep, err = runLive(ctx, lc)
	} else {
		rep, err = sim.Run(ctx, cfg)
	}
	progress.done()
	if errors.Is(err, sim.ErrSpec) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := rep.Render(cmd.OutOrStdout(), f.format); err != nil {
		return err
	}
	if f.plot != "" {
		if err := sim.Plot(f.plot, rep); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	return nil
}

// benchProgress rewrites one status line on a terminal, or prints one line
// per stage otherwise.
type benchProgress struct {
	w     io.Writer
	tty   bool
	width int
}

func newBenchProgress(w io.Writer) *benchProgress {
	p := &benchProgress{w: w}
	if fd, ok := w.(*os.File); ok {
		st, err := fd.Stat()
		p.tty = err == nil && st.Mode()&os.ModeCharDevice != 0
	}
	return p
}

func (p *benchProgress) update(s sim.Progress) {
	line := fmt.Sprintf("bench: %d nodes: %s", s.Nodes, s.Stage)
	if s.Queries > 0 {
		line += fmt.Sprintf(" ttl %d: query %d/%d", s.TTL, s.Query, s.Queries)
	}
	if !p.tty {
		if s.Query == 0 {
			fmt.Fprintln(p.w, line)
		}
		return
	}
	fmt.Fprintf(p.w, "\r%-*s", p.width, line)
	p.width = max(p.width, len(line))
}

func (p *benchProgress) done() {
	if p.tty && p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	}
}
