package sim

import (
	"net/netip"

	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/storage"
	"github.com/servent-p2p/servent/ultrapeer"
)

// fileIndex is a node's own shares as its query.Index: the matching rule
// is query.Query.Matches, the one every index uses.
type fileIndex struct {
	owner query.PeerID
	files []*simFile
}

var _ query.Index = (*fileIndex)(nil)

// Match implements query.Index.
func (x *fileIndex) Match(q *query.Query) []query.QueryHit {
	words := q.Words()
	var res []query.FileResult
	for i, f := range x.files {
		if q.Matches(words, f.keywords, f.hash) {
			res = append(res, query.FileResult{Index: uint32(i), Size: f.size, Name: f.name, Hash: f.hash})
		}
	}
	if len(res) == 0 {
		return nil
	}
	return []query.QueryHit{hitFrom(x.owner, res)}
}

// registryIndex answers for an ultrapeer from its ultrapeer.Registry (its
// leaves' indexes and its own): one QueryHit per owner, naming the owner.
type registryIndex struct{ reg *ultrapeer.Registry }

var _ query.Index = registryIndex{}

// Match implements query.Index.
func (x registryIndex) Match(q *query.Query) []query.QueryHit {
	var urn *storage.Hash
	if !q.Hash.IsZero() {
		urn = &q.Hash
	}
	ms := x.reg.Match(q.Words(), urn, 0)
	if len(ms) == 0 {
		return nil
	}
	hits := make([]query.QueryHit, 0, len(ms))
	for _, m := range ms {
		res := make([]query.FileResult, len(m.Entries))
		for i, e := range m.Entries {
			res[i] = query.FileResult{Index: uint32(i), Size: uint64(e.Size), Name: e.Path, Hash: e.Hash}
		}
		hits = append(hits, hitFrom(query.PeerID(m.Owner.ID), res))
	}
	return hits
}

// hitFrom is the QueryHit a servent sends for its own files: IPv4 endpoint,
// QUIC port, key fingerprint and node name set, as the daemon does, so that
// byte counts are realistic.
func hitFrom(owner query.PeerID, res []query.FileResult) query.QueryHit {
	v := peer(owner)
	h := query.QueryHit{
		Port:     6346,
		Addr:     netip.AddrFrom4([4]byte{10, byte(v >> 16), byte(v >> 8), byte(v)}),
		Speed:    1000,
		Results:  res,
		QUICPort: 6346,
		Node:     string(owner),
	}
	for i := range h.Fingerprint {
		h.Fingerprint[i] = byte(v) ^ byte(i) | 1
	}
	for i := range h.ServentID {
		h.ServentID[i] = byte(v >> (8 * (i % 4)))
	}
	return h
}
