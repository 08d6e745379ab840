package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/servent-p2p/servent/query"
)

// world is one network size: node IDs, flood graph, workload, and the
// hierarchy (built on first use), shared by every mode and TTL.
type world struct {
	cfg      *Config
	topo     string
	ids      []query.PeerID
	graph    *Graph
	nbrIDs   []query.PeerID // graph.Adj as PeerIDs
	work     *workload
	own      []query.Index // per node: its own files, nil when none
	hier     *hierarchy
	maxTTL   uint8
	progress func(Progress)
}

// build makes the world's IDs, graph (unless read from a file), workload
// and own-file indexes. Each part draws from its own seeded stream.
func (w *world) build(n int) error {
	cfg := w.cfg
	w.ids = make([]query.PeerID, n)
	for i := range w.ids {
		w.ids[i] = query.PeerID(strconv.Itoa(i))
	}
	switch {
	case w.graph != nil:
		w.topo = filepath.Base(cfg.Topology)
	case slices.Contains(cfg.Modes, ModeFlood):
		if err := w.makeGraph(n); err != nil {
			return err
		}
	}
	if w.graph != nil {
		w.nbrIDs = make([]query.PeerID, len(w.graph.Adj))
		for i, v := range w.graph.Adj {
			w.nbrIDs[i] = w.ids[v]
		}
	}
	w.report(Progress{Nodes: n, Stage: "workload"})
	var err error
	w.work, err = newWorkload(n, cfg.Files, cfg.Queries, cfg.Replication, rand.New(rand.NewPCG(cfg.Seed, 2)))
	if err != nil {
		return err
	}
	w.own = make([]query.Index, n)
	for v, fs := range w.work.nodeFiles {
		if len(fs) == 0 {
			continue
		}
		x := &fileIndex{owner: w.ids[v]}
		for _, fi := range fs {
			x.files = append(x.files, &w.work.files[fi])
		}
		w.own[v] = x
	}
	if slices.ContainsFunc(cfg.Modes, Mode.hierarchical) {
		w.report(Progress{Nodes: n, Stage: "hierarchy"})
		w.hier = buildHierarchy(w.ids, w.work, cfg.Hierarchy, cfg.Graph == GraphMembership, rand.New(rand.NewPCG(cfg.Seed, 3)))
	}
	return nil
}

// makeGraph generates the flood graph of n nodes that the config names.
func (w *world) makeGraph(n int) error {
	cfg := w.cfg
	w.report(Progress{Nodes: n, Stage: "topology"})
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	var err error
	switch cfg.Graph {
	case GraphRandom:
		w.graph, err = RandomRegular(n, cfg.Degree, rng)
		w.topo = fmt.Sprintf("random d=%d", cfg.Degree)
	case GraphER:
		w.graph, err = ErdosRenyi(n, float64(cfg.Degree), rng)
		w.topo = fmt.Sprintf("er d=%d", cfg.Degree)
	case GraphPowerLaw:
		m := max(1, cfg.Degree/2)
		w.graph, err = BarabasiAlbert(n, m, rng)
		w.topo = fmt.Sprintf("powerlaw m=%d", m)
	case GraphMembership:
		w.graph = MembershipGraph(n, cfg.Degree)
		w.topo = fmt.Sprintf("membership d=%d", cfg.Degree)
	}
	return err
}

func (w *world) floodNeighbours(v int) []query.PeerID {
	return w.nbrIDs[w.graph.Off[v]:w.graph.Off[v+1]]
}

func (w *world) report(p Progress) {
	if w.progress != nil {
		w.progress(p)
	}
}

// run simulates every query of the workload in mode m at TTL ttl on fresh
// routers and summarises them.
func (w *world) run(ctx context.Context, m Mode, ttl int) (Row, error) {
	n := len(w.ids)
	cfg := w.cfg
	routers := w.routers(m, w.maxTTL)
	runKey := uint64(len(m))<<56 ^ uint64(m[0])<<48 ^ uint64(ttl)<<32 ^ uint64(n)
	lossRng := rand.New(rand.NewPCG(cfg.Seed^0x10557, runKey))
	net := newNetwork(w.ids, routers, cfg.Latency, cfg.Seed, cfg.Loss, lossRng)
	var agg aggregate
	step := max(1, len(w.work.queries)/20)
	for i, j := range w.work.queries {
		if err := ctx.Err(); err != nil {
			return Row{}, err
		}
		if i%step == 0 {
			w.report(Progress{Nodes: n, Stage: string(m), TTL: ttl, Query: i, Queries: len(w.work.queries)})
		}
		j.ttl = uint8(ttl)
		st := net.run(int64(i)*int64(querySpacing), j)
		agg.add(&st, len(w.work.holders[w.work.fileOf(j)]))
	}
	row := agg.row(len(w.work.queries), net.handled)
	row.Mode, row.Nodes, row.TTL, row.Queries = string(m), n, ttl, len(w.work.queries)
	row.Topology = w.topo
	row.LowerBound = n - 1
	if m.hierarchical() {
		row.Topology = "hierarchy"
		row.Ultrapeers = len(w.hier.ups)
		row.LowerBound = len(w.hier.ups) - 1
		row.Unattached, row.Short = w.hier.unattached, w.hier.short
	}
	return row, nil
}
