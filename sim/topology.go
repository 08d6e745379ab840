package sim

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// ErrTopology reports an edge list that cannot be read or a graph that
// cannot be built.
var ErrTopology = errors.New("bad topology")

// Graph is an undirected simple graph in compressed sparse row form: the
// neighbours of node v are Adj[Off[v]:Off[v+1]], sorted ascending. Nodes are
// 0..N()-1. A Graph is immutable once built and safe for concurrent reads.
type Graph struct {
	Off []int32
	Adj []int32
}

// N returns the number of nodes.
func (g *Graph) N() int { return len(g.Off) - 1 }

// Neighbours returns v's neighbours (read-only, sorted).
func (g *Graph) Neighbours(v int) []int32 { return g.Adj[g.Off[v]:g.Off[v+1]] }

// Degree returns v's degree.
func (g *Graph) Degree(v int) int { return int(g.Off[v+1] - g.Off[v]) }

// Edges returns the number of undirected edges.
func (g *Graph) Edges() int { return len(g.Adj) / 2 }

// edge is an undirected pair, stored with a < b once normalised.
type edge struct{ a, b int32 }

// fromEdges builds a Graph of n nodes from edges, dropping self-loops and
// duplicate pairs (in either direction).
func fromEdges(n int, edges []edge) *Graph {
	norm := edges[:0]
	for _, e := range edges {
		switch {
		case e.a == e.b:
			continue
		case e.a > e.b:
			e.a, e.b = e.b, e.a
		}
		norm = append(norm, e)
	}
	slices.SortFunc(norm, func(x, y edge) int {
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	norm = slices.Compact(norm)
	off := make([]int32, n+1)
	for _, e := range norm {
		off[e.a+1]++
		off[e.b+1]++
	}
	for i := range n {
		off[i+1] += off[i]
	}
	adj := make([]int32, 2*len(norm))
	fill := slices.Clone(off[:n])
	for _, e := range norm {
		adj[fill[e.a]] = e.b
		fill[e.a]++
		adj[fill[e.b]] = e.a
		fill[e.b]++
	}
	g := &Graph{Off: off, Adj: adj}
	for v := range n {
		slices.Sort(g.Neighbours(v))
	}
	return g
}

// RandomRegular returns an (almost) d-regular random graph on n nodes by the
// configuration model: n*d stubs paired uniformly at random, then the few
// self-loops and duplicate pairs dropped (their nodes end with degree d-1 or
// d-2; with n*d odd one stub is left out).
func RandomRegular(n, d int, rng *rand.Rand) (*Graph, error) {
	if n < 2 || d < 1 || d >= n {
		return nil, fmt.Errorf("random regular graph n=%d d=%d: %w", n, d, ErrTopology)
	}
	stubs := make([]int32, 0, n*d)
	for v := range n {
		for range d {
			stubs = append(stubs, int32(v))
		}
	}
	rng.Shuffle(len(stubs), func(i, j int) { stubs[i], stubs[j] = stubs[j], stubs[i] })
	edges := make([]edge, 0, len(stubs)/2)
	for i := 0; i+1 < len(stubs); i += 2 {
		edges = append(edges, edge{stubs[i], stubs[i+1]})
	}
	return fromEdges(n, edges), nil
}

// ErdosRenyi returns a G(n, M) random graph with M = round(n*mean/2)
// distinct edges drawn uniformly: mean degree mean, Poisson degrees (some
// nodes isolated when mean is small).
func ErdosRenyi(n int, mean float64, rng *rand.Rand) (*Graph, error) {
	m := int(float64(n)*mean/2 + 0.5)
	if n < 2 || mean <= 0 || m > n*(n-1)/4 {
		return nil, fmt.Errorf("erdős–rényi graph n=%d mean=%g: %w", n, mean, ErrTopology)
	}
	seen := make(map[edge]struct{}, m)
	edges := make([]edge, 0, m)
	for len(edges) < m {
		a, b := int32(rng.IntN(n)), int32(rng.IntN(n))
		if a == b {
			continue
		}
		e := edge{min(a, b), max(a, b)}
		if _, dup := seen[e]; dup {
			continue
		}
		seen[e] = struct{}{}
		edges = append(edges, e)
	}
	return fromEdges(n, edges), nil
}

// BarabasiAlbert returns a preferential-attachment (power-law) graph: a
// clique of m+1 nodes, then each new node links to m distinct existing nodes
// chosen with probability proportional to their degree. Mean degree ≈ 2m.
func BarabasiAlbert(n, m int, rng *rand.Rand) (*Graph, error) {
	if m < 1 || n < m+2 {
		return nil, fmt.Errorf("barabási–albert graph n=%d m=%d: %w", n, m, ErrTopology)
	}
	edges := make([]edge, 0, n*m)
	ends := make([]int32, 0, 2*n*m) // every edge endpoint: degree-proportional sampling
	for a := range m + 1 {
		for b := a + 1; b <= m; b++ {
			edges = append(edges, edge{int32(a), int32(b)})
			ends = append(ends, int32(a), int32(b))
		}
	}
	picked := make([]int32, 0, m)
	for v := m + 1; v < n; v++ {
		picked = picked[:0]
		for len(picked) < m {
			u := ends[rng.IntN(len(ends))]
			if !slices.Contains(picked, u) {
				picked = append(picked, u)
			}
		}
		for _, u := range picked {
			edges = append(edges, edge{int32(v), u})
			ends = append(ends, int32(v), u)
		}
	}
	return fromEdges(n, edges), nil
}

// ReadEdgeList reads an edge list: one "FROM TO" pair of non-negative
// integer node IDs per line (spaces or tabs), blank lines and lines starting
// with '#' ignored. Edges are undirected; self-loops and duplicate pairs are
// dropped. IDs are remapped to 0..n-1 in order of first appearance, so a
// node that appears only in self-loops still counts.
func ReadEdgeList(r io.Reader) (*Graph, error) {
	ids := make(map[uint64]int32)
	id := func(s string, line int) (int32, error) {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("line %d: node %q: %w", line, s, ErrTopology)
		}
		if x, ok := ids[v]; ok {
			return x, nil
		}
		x := int32(len(ids))
		ids[v] = x
		return x, nil
	}
	var edges []edge
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		f := strings.Fields(text)
		if len(f) < 2 {
			return nil, fmt.Errorf("line %d: want FROM TO: %w", line, ErrTopology)
		}
		a, err := id(f[0], line)
		if err != nil {
			return nil, err
		}
		b, err := id(f[1], line)
		if err != nil {
			return nil, err
		}
		edges = append(edges, edge{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read edge list: %w: %w", ErrTopology, err)
	}
	if len(ids) < 2 {
		return nil, fmt.Errorf("edge list with %d nodes: %w", len(ids), ErrTopology)
	}
	return fromEdges(len(ids), edges), nil
}
