package api

import (
	"cmp"
	"slices"
)

// SortResults ranks search results: more query words matched exactly
// first, then more sources, then by name and hash (a stable order for
// numbering).
func SortResults(rs []Result) {
	slices.SortStableFunc(rs, func(a, b Result) int {
		return cmp.Or(
			cmp.Compare(b.Exact, a.Exact),
			cmp.Compare(len(b.Sources), len(a.Sources)),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Hash, b.Hash),
		)
	})
}
