package ultrapeer

import (
	"bytes"
	"slices"

	"github.com/servent-p2p/servent/content"
)

// What an ultrapeer's QRP table is built from: every hash and keyword it
// answers for.

// Hashes returns the content hash of every registered entry, sorted, each
// once: with Keywords, the input of the ultrapeer's QRP table (URN queries
// route on the hash).
func (r *Registry) Hashes() []content.Hash {
	var out []content.Hash
	for _, st := range r.snapshot() {
		for _, h := range st.idx.byHash {
			out = append(out, h.hash)
		}
	}
	slices.SortFunc(out, func(a, b content.Hash) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(out)
}

// Keywords returns every distinct keyword of every registered entry, sorted:
// the input of the ultrapeer's QRP table.
func (r *Registry) Keywords() []string {
	var out []string
	for _, st := range r.snapshot() {
		out = append(out, st.idx.words...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
