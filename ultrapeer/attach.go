package ultrapeer

import (
	"slices"
	"strings"
)

// FNV-1a 64-bit parameters.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// fnvString continues an FNV-1a 64 hash over s.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// mix64 is the SplitMix64 finaliser: FNV-1a alone spreads similar names
// (node-1, node-2 ...) poorly over the high bits.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// Weight is the rendezvous weight of the pair (a, b):
// mix64(FNV-1a-64(a || 0x00 || b)). It is stable across runs, machines and
// versions: it is part of the protocol, since every node must agree on it.
func Weight(a, b string) uint64 {
	h := fnvString(fnvOffset64, a)
	h *= fnvPrime64 // the 0x00 separator: h ^= 0 is a no-op
	return mix64(fnvString(h, b))
}

// weighted is an ultrapeer ID with its weight for one leaf.
type weighted struct {
	w  uint64
	id string
}

// heavier orders by weight descending, then ID ascending.
func heavier(a, b weighted) int {
	if a.w != b.w {
		if a.w > b.w {
			return -1
		}
		return 1
	}
	return strings.Compare(a.id, b.id)
}

// Attach returns the k ultrapeers the leaf leafID attaches to, by rendezvous
// (highest random weight) hashing: the k IDs u of ultrapeers with the
// largest Weight(leafID, u), heaviest first (the leaf's order of
// preference). Fewer when fewer exist; leafID itself is skipped. When an
// ultrapeer leaves, only the leaves that had it among their k move, each
// replacing it by its next preference. Pure, O(n*k); safe for concurrent use.
// Attach(leaf, ups, len(ups)) gives the leaf's whole preference order, to
// walk when ultrapeers refuse it.
func Attach(leafID string, ultrapeers []string, k int) []string {
	if k <= 0 {
		return nil
	}
	top := make([]weighted, 0, min(k, len(ultrapeers))+1)
	for _, u := range ultrapeers {
		if u == leafID {
			continue
		}
		c := weighted{Weight(leafID, u), u}
		if len(top) == k && heavier(c, top[k-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, c, heavier)
		if i < len(top) && top[i].id == c.id {
			continue // duplicate ID in the input
		}
		top = slices.Insert(top, i, c)
		if len(top) > k {
			top = top[:k]
		}
	}
	out := make([]string, len(top))
	for i, t := range top {
		out[i] = t.id
	}
	return out
}

// TryUltrapeers returns up to n ultrapeers other than self to suggest to a
// leaf that self refuses (like Gnutella's X-Try-Ultrapeers): the first n of
// self's own rendezvous order, so that each ultrapeer spreads refused leaves
// over a different part of the set. Pure; safe for concurrent use.
func TryUltrapeers(self string, ultrapeers []string, n int) []string {
	return Attach(self, ultrapeers, n)
}

// AttachWithCap is Attach skipping the ultrapeers for which skip returns
// true (full ones, or ones that refused the leaf recently): the first k of
// the leaf's preference order that skip accepts. A nil skip skips none. The
// simulator uses it to place leaves under a cap; a leaf uses it after
// refusals. Pure apart from calling skip; safe for concurrent use when skip
// is.
func AttachWithCap(leafID string, ultrapeers []string, k int, skip func(ultrapeer string) bool) []string {
	if k <= 0 {
		return nil
	}
	for want := 2 * k; ; want *= 2 {
		order := Attach(leafID, ultrapeers, want)
		out := make([]string, 0, k)
		for _, u := range order {
			if skip == nil || !skip(u) {
				out = append(out, u)
				if len(out) == k {
					return out
				}
			}
		}
		if len(order) < want { // the whole set was seen
			return out
		}
	}
}
