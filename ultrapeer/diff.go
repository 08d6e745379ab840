package ultrapeer

import (
	"slices"
	"strings"
)

// Diff computes the delta that turns the leaf's catalog snapshot old into
// new, keyed by Path: add holds the entries of new that are absent from old
// or differ from it (size, hash or keywords), remove the paths of old that
// are absent from new. Both are sorted by path. Pure; inputs are not
// modified; a path repeated in one snapshot counts once (its last entry).
func Diff(old, new []Entry) (add []Entry, remove []string) {
	prev := make(map[string]Entry, len(old))
	for _, e := range old {
		prev[e.Path] = e
	}
	cur := make(map[string]Entry, len(new))
	for _, e := range new {
		cur[e.Path] = e
	}
	for p, e := range cur {
		if o, ok := prev[p]; !ok || !sameEntry(o, e) {
			add = append(add, e)
		}
	}
	for p := range prev {
		if _, ok := cur[p]; !ok {
			remove = append(remove, p)
		}
	}
	slices.SortFunc(add, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	slices.Sort(remove)
	return add, remove
}

// sameEntry reports whether two entries with the same path are equal.
func sameEntry(a, b Entry) bool {
	return a.Size == b.Size && a.Hash == b.Hash && a.Partial == b.Partial && slices.Equal(a.Keywords, b.Keywords)
}

// Delta returns the Update that moves an ultrapeer holding the leaf's index
// at version from (snapshot old) to version from+1 (snapshot new), or
// ok == false when nothing changed.
func Delta(from uint64, old, new []Entry) (u Update, ok bool) {
	add, remove := Diff(old, new)
	if len(add) == 0 && len(remove) == 0 {
		return Update{}, false
	}
	return Update{FromVersion: from, ToVersion: from + 1, Add: add, Remove: remove}, true
}
