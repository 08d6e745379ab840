package ultrapeer

import (
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
)

// Index answers queries for the routing core from a Registry: one QueryHit
// per owner with matches, naming the owner (its address, QUIC port, key
// fingerprint and node name), since the owner serves the files. The daemon
// and the simulator both answer through it.
type Index struct {
	Registry *Registry
	// Limit bounds the entries answered per query (0: no limit).
	Limit int
}

var _ query.Index = Index{}

// Match implements query.Index. Safe for concurrent use.
func (x Index) Match(q *query.Query) []query.QueryHit {
	var urn *content.Hash
	if !q.Hash.IsZero() {
		urn = &q.Hash
	}
	matches := x.Registry.Match(q.Words(), urn, x.Limit)
	if len(matches) == 0 {
		return nil
	}
	hits := make([]query.QueryHit, 0, len(matches))
	for _, m := range matches {
		res := make([]query.FileResult, len(m.Entries))
		for i, e := range m.Entries {
			res[i] = query.FileResult{Index: uint32(i), Size: uint64(e.Size), Name: e.Path, Hash: e.Hash, Partial: e.Partial}
		}
		hits = append(hits, OwnerHit(m.Owner, res))
	}
	return hits
}

// OwnerHit is the QueryHit for files of owner: its IPv4 (or IPv6) address
// and port, QUIC port, fingerprint, node name, and a servent ID taken from
// the fingerprint.
func OwnerHit(owner Owner, res []query.FileResult) query.QueryHit {
	h := query.QueryHit{
		Port:        owner.Addr.Port(),
		QUICPort:    owner.Addr.Port(),
		Fingerprint: owner.Fingerprint,
		Node:        owner.ID,
		Results:     res,
	}
	if a := owner.Addr.Addr().Unmap(); a.Is4() {
		h.Addr = a
	} else {
		h.IPv6 = a
	}
	copy(h.ServentID[:], owner.Fingerprint[:len(h.ServentID)])
	return h
}
