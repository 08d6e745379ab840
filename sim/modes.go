package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
)

// Mode is a routing strategy under test.
type Mode string

// Modes.
const (
	// ModeFlood is Gnutella 0.4: every node floods to its graph neighbours
	// and answers from its own shares.
	ModeFlood Mode = "flood"
	// ModeSmart is Gnutella 0.6: leaves send to their ultrapeers, which
	// answer from their registries and flood the ultrapeer mesh.
	ModeSmart Mode = "smart"
	// ModeQRP is ModeSmart with last-hop QRP: a query sent with TTL 1 goes
	// only to mesh neighbours whose QRP table matches it.
	ModeQRP Mode = "qrp"
	// ModeDynamic is ModeQRP with dynamic querying (query.DynamicConfig):
	// one ultrapeer of each leaf probes a few mesh neighbours and widens
	// only while too few results came back.
	ModeDynamic Mode = "dynamic"
)

// AllModes lists the modes of "all", in report order.
var AllModes = []Mode{ModeFlood, ModeSmart, ModeQRP, ModeDynamic}

// ParseModes parses "flood", "smart", "qrp", "dynamic", "all" or a
// comma-separated list of them.
func ParseModes(s string) ([]Mode, error) {
	var out []Mode
	for _, f := range strings.Split(s, ",") {
		switch m := Mode(strings.TrimSpace(f)); m {
		case "all":
			out = append(out, AllModes...)
		case ModeFlood, ModeSmart, ModeQRP, ModeDynamic:
			out = append(out, m)
		default:
			return nil, fmt.Errorf("mode %q (want flood, smart, qrp, dynamic or all): %w", f, ErrSpec)
		}
	}
	slices.SortStableFunc(out, func(a, b Mode) int { return slices.Index(AllModes, a) - slices.Index(AllModes, b) })
	return slices.Compact(out), nil
}

// hierarchical reports whether m uses the ultrapeer hierarchy.
func (m Mode) hierarchical() bool { return m == ModeSmart || m == ModeQRP || m == ModeDynamic }

// lastHopQRP reports whether m routes the last hop by QRP tables.
func (m Mode) lastHopQRP() bool { return m == ModeQRP || m == ModeDynamic }

// dupCacheSize bounds each router's duplicate cache. Queries never overlap
// in the simulation (each runs until the network is quiet), so a router only
// ever needs the current query's GUID; 64 instead of the daemon's 4096 keeps
// 100,000 routers' caches small without changing any routing decision.
const dupCacheSize = 64

// routers builds one fresh query.Router per node for mode m, with MaxTTL
// maxTTL: flood nodes linked along the graph, or the hierarchy's ultrapeers
// and leaves (with the QRP tables exchanged along the mesh for ModeQRP and
// ModeDynamic, and the neighbours' degrees for ModeDynamic).
func (w *world) routers(m Mode, maxTTL uint8) []*query.Router {
	rs := make([]*query.Router, len(w.ids))
	for v := range w.ids {
		cfg := query.DefaultConfig(w.ids[v])
		cfg.MaxTTL, cfg.DefaultTTL = maxTTL, maxTTL
		cfg.LastHopQRP = m.lastHopQRP()
		cfg.Dynamic.On = m == ModeDynamic
		cfg.Dynamic.HopWait = w.cfg.Latency.hopWait()
		cfg.DupCacheSize = dupCacheSize
		if m == ModeFlood {
			cfg.Mode = query.Flood
			r := query.NewRouter(cfg, w.own[v])
			r.SetTopology(role.Flood, w.floodNeighbours(v), nil, nil)
			rs[v] = r
			continue
		}
		cfg.Mode = query.Smart
		h := w.hier
		if h.isUP[v] {
			r := query.NewRouter(cfg, h.index[v])
			r.SetTopology(role.Ultrapeer, h.mesh[v], nil, h.upLeaves[v])
			if m == ModeDynamic {
				r.SetNeighbourDegrees(h.degrees(int32(v)))
				r.SetMeshSize(len(h.ups))
			}
			rs[v] = r
			continue
		}
		r := query.NewRouter(cfg, nil)
		r.SetTopology(role.Leaf, nil, h.leafUPs[v], nil)
		rs[v] = r
	}
	if m.lastHopQRP() {
		h := w.hier
		h.buildTables(w.work)
		for _, u := range h.ups {
			v := peer(query.PeerID(u))
			for _, nb := range h.mesh[v] {
				rs[peer(nb)].SetNeighbourTable(w.ids[v], h.tables[v])
			}
		}
	}
	return rs
}
