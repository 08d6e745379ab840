package sim

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// bfs returns the hop distance from origin to every node (-1: unreachable).
func bfs(g *Graph, origin int) []int {
	dist := make([]int, g.N())
	for i := range dist {
		dist[i] = -1
	}
	dist[origin] = 0
	queue := []int{origin}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, u := range g.Neighbours(v) {
			if dist[u] < 0 {
				dist[u] = dist[v] + 1
				queue = append(queue, int(u))
			}
		}
	}
	return dist
}

// floodExpect is what the flooding rule gives for a query from origin with
// TTL t, with equal link latencies and no loss: the origin sends to all its
// neighbours; a node at distance d (1 <= d < t) receives its first copy
// with TTL t-d+1 > 1 from a node at distance d-1 and forwards it to all its
// neighbours but that one; nodes at distance t receive it with TTL 1 and
// stop. Every copy is received, once for the first time at each node of the
// ball, and as a duplicate otherwise.
func floodExpect(g *Graph, origin, t int) (msgs, reached, dups int) {
	dist := bfs(g, origin)
	msgs = g.Degree(origin)
	for v, d := range dist {
		if d >= 1 && d <= t {
			reached++
		}
		if d >= 1 && d < t {
			msgs += g.Degree(v) - 1
		}
	}
	return msgs, reached, msgs - reached
}

// TestFloodMatchesBreadthFirst drives the real routers in flood mode and
// checks every query's counts against the breadth-first computation.
func TestFloodMatchesBreadthFirst(t *testing.T) {
	gen := map[string]func(*testing.T, *rand.Rand) (*Graph, error){
		"random-regular": func(_ *testing.T, r *rand.Rand) (*Graph, error) { return RandomRegular(300, 4, r) },
		"erdos-renyi":    func(_ *testing.T, r *rand.Rand) (*Graph, error) { return ErdosRenyi(300, 3, r) },
		"power-law":      func(_ *testing.T, r *rand.Rand) (*Graph, error) { return BarabasiAlbert(300, 2, r) },
		"edge-list": func(*testing.T, *rand.Rand) (*Graph, error) {
			return ReadEdgeList(strings.NewReader("0 1\n1 2\n2 3\n3 0\n3 4\n4 5\n5 6\n6 4\n6 7\n7 8\n8 9\n"))
		},
	}
	gen["gnutella08"] = func(t *testing.T, _ *rand.Rand) (*Graph, error) {
		if testing.Short() || raceEnabled {
			t.Skip("6,301 nodes: too slow with -short or -race")
		}
		f, err := os.Open("../../shared/topologies/p2p-Gnutella08.txt")
		if err != nil {
			t.Skip("crawl not available:", err)
		}
		defer f.Close()
		return ReadEdgeList(f)
	}
	for _, name := range []string{"random-regular", "erdos-renyi", "power-law", "edge-list", "gnutella08"} {
		t.Run(name, func(t *testing.T) {
			g, err := gen[name](t, rand.New(rand.NewPCG(7, 7)))
			if err != nil {
				t.Fatal(err)
			}
			w := testWorld(t, g, Config{Modes: []Mode{ModeFlood}, Queries: 20, Files: 50, Seed: 3})
			for _, ttl := range []int{1, 2, 3, 4, 7} {
				net := newNetwork(w.ids, w.routers(ModeFlood, w.maxTTL), w.cfg.Latency, 3, 0, nil)
				for i, j := range w.work.queries {
					j.ttl = uint8(ttl)
					st := net.run(int64(i)*int64(querySpacing), j)
					msgs, reached, dups := floodExpect(g, int(j.origin), ttl)
					if st.msgs != msgs || st.reached != reached || st.dups != dups {
						t.Fatalf("ttl %d query %d from %d: got msgs %d reached %d dups %d, breadth-first gives %d %d %d",
							ttl, i, j.origin, st.msgs, st.reached, st.dups, msgs, reached, dups)
					}
				}
			}
		})
	}
}

// testWorld builds a world over a given graph with cfg's defaults.
func testWorld(t *testing.T, g *Graph, cfg Config) *world {
	t.Helper()
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	w := &world{cfg: &cfg, graph: g, maxTTL: 7}
	if err := w.build(g.N()); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestFloodHitsReturnAlongReversePath: with constant latency a hit comes
// back over as many links as the holder is far from the origin, and the
// first one takes two link latencies per hop.
func TestFloodHitsReturnAlongReversePath(t *testing.T) {
	g, err := RandomRegular(200, 4, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	w := testWorld(t, g, Config{Modes: []Mode{ModeFlood}, Queries: 30, Files: 30, Seed: 9})
	net := newNetwork(w.ids, w.routers(ModeFlood, 7), w.cfg.Latency, 9, 0, nil)
	for i, j := range w.work.queries {
		j.ttl = 7
		st := net.run(int64(i)*int64(querySpacing), j)
		dist := bfs(g, int(j.origin))
		nearest := -1
		for _, h := range w.work.holders[w.work.fileOf(j)] {
			if d := dist[h]; d > 0 && d <= 7 && (nearest < 0 || d < nearest) {
				nearest = d
			}
		}
		if nearest < 0 {
			if st.gotHit {
				t.Fatalf("query %d: hit from beyond the TTL", i)
			}
			continue
		}
		if !st.gotHit || st.firstHops != nearest || st.firstAt != int64(2*nearest)*int64(10*time.Millisecond) {
			t.Fatalf("query %d: first hit hops %d after %v, want %d hops", i, st.firstHops, time.Duration(st.firstAt), nearest)
		}
	}
}
