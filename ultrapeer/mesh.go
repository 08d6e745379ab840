package ultrapeer

import (
	"slices"
	"strconv"
	"strings"
)

// meshSeed names the hash ordering of mesh cycle j. Part of the protocol:
// every ultrapeer must derive the same cycles.
func meshSeed(j int) string { return "servent-mesh-" + strconv.Itoa(j) }

// key is a member's position key in one mesh ordering: its weight under the
// ordering's seed, ties broken by ID.
type key struct {
	w  uint64
	id string
}

func (a key) less(b key) bool {
	return a.w < b.w || (a.w == b.w && a.id < b.id)
}

func keyCmp(a, b key) int {
	if a.w != b.w {
		if a.w < b.w {
			return -1
		}
		return 1
	}
	return strings.Compare(a.id, b.id)
}

// meshShape returns the number of Hamiltonian cycles and whether a perfect
// matching is added, for a configured degree (< 2 counts as 2).
func meshShape(degree int) (cycles int, matching bool) {
	degree = max(degree, 2)
	return degree / 2, degree%2 == 1
}

// Mesh returns the ultrapeers self links to in the ultrapeer mesh, sorted by
// ID. Every ultrapeer computes its own links from the same set without
// exchanging messages, and the links agree: b is in Mesh(a) exactly when a
// is in Mesh(b).
//
// Construction: when the set has at most degree+1
// members, the mesh is complete. Otherwise it is the union of degree/2
// Hamiltonian cycles, cycle j visiting the ultrapeers in increasing order of
// Weight("servent-mesh-j", id) (ties by ID); for an odd degree, a perfect
// matching is added (pairs of ranks 2i, 2i+1 in ordering degree/2; with an
// odd count the last one is unmatched). Hence:
//   - symmetric, and connected (one cycle already is);
//   - degree at most the configured degree (less where two cycles give the
//     same neighbour), never more: no slack is needed; a degree below 2
//     counts as 2;
//   - a random regular-like graph, so its diameter grows as log(n) (a query
//     TTL of 7 covers thousands of ultrapeers at degree 8);
//   - minimal disruption: when an ultrapeer leaves, each cycle joins its two
//     neighbours, and when one joins it splits one edge per cycle; every
//     other link stays (the matching may shift more).
//
// ultrapeers must not repeat an ID (Elect's result never does). Mesh
// returns nil when self is not in ultrapeers. Pure, O(n*degree), no
// allocation beyond the result;
// safe for concurrent use. Use MeshGraph for the links of every ultrapeer.
func Mesh(self string, ultrapeers []string, degree int) []string {
	if !slices.Contains(ultrapeers, self) {
		return nil
	}
	n := len(ultrapeers)
	if n <= max(degree, 2)+1 {
		out := make([]string, 0, len(ultrapeers)-1)
		for _, u := range ultrapeers {
			if u != self {
				out = append(out, u)
			}
		}
		slices.Sort(out)
		return out
	}
	cycles, matching := meshShape(degree)
	out := make([]string, 0, degree)
	for j := range cycles {
		pred, succ, _ := neighboursIn(self, ultrapeers, meshSeed(j))
		out = append(out, pred, succ)
	}
	if matching {
		pred, succ, rank := neighboursIn(self, ultrapeers, meshSeed(cycles))
		switch {
		case rank%2 == 1:
			out = append(out, pred)
		case rank+1 < n:
			out = append(out, succ)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// neighboursIn scans ultrapeers once and returns self's predecessor and
// successor on the cycle ordered by seed, and self's rank in that order.
func neighboursIn(self string, ultrapeers []string, seed string) (pred, succ string, rank int) {
	me := key{Weight(seed, self), self}
	var lo, hi, below, above key
	haveLo, haveHi, haveBelow, haveAbove := false, false, false, false
	for _, u := range ultrapeers {
		if u == self {
			continue
		}
		k := key{Weight(seed, u), u}
		if !haveLo || k.less(lo) {
			lo, haveLo = k, true
		}
		if !haveHi || hi.less(k) {
			hi, haveHi = k, true
		}
		if k.less(me) {
			rank++
			if !haveBelow || below.less(k) {
				below, haveBelow = k, true
			}
		} else if !haveAbove || k.less(above) {
			above, haveAbove = k, true
		}
	}
	if !haveBelow {
		below = hi // wrap around
	}
	if !haveAbove {
		above = lo
	}
	return below.id, above.id, rank
}

// MeshGraph returns Mesh(u, ultrapeers, degree) for every ultrapeer u at
// once, in O(degree * n log n) rather than O(degree * n^2): for the
// simulator and for status pages. Pure; safe for concurrent use.
func MeshGraph(ultrapeers []string, degree int) map[string][]string {
	ids := slices.Clone(ultrapeers)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	n := len(ids)
	g := make(map[string][]string, n)
	if n <= max(degree, 2)+1 {
		for i, u := range ids {
			links := make([]string, 0, n-1)
			links = append(links, ids[:i]...)
			g[u] = append(links, ids[i+1:]...)
		}
		return g
	}
	cycles, matching := meshShape(degree)
	order := make([]key, n)
	for j := range cycles + 1 {
		if j == cycles && !matching {
			break
		}
		seed := meshSeed(j)
		for i, u := range ids {
			order[i] = key{Weight(seed, u), u}
		}
		slices.SortFunc(order, keyCmp)
		for i, k := range order {
			if j == cycles {
				if i%2 == 1 {
					g[k.id] = append(g[k.id], order[i-1].id)
					g[order[i-1].id] = append(g[order[i-1].id], k.id)
				}
				continue
			}
			next := order[(i+1)%n].id
			g[k.id] = append(g[k.id], next)
			g[next] = append(g[next], k.id)
		}
	}
	for u, links := range g {
		slices.Sort(links)
		g[u] = slices.Compact(links)
	}
	return g
}
