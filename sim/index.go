package sim

import (
	"net/netip"

	"github.com/servent-p2p/servent/query"
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
	return []query.QueryHit{ultrapeer.OwnerHit(owner(x.owner), res)}
}

// owner is the identity a virtual node answers with: an IPv4 address, QUIC
// port and key fingerprint derived from its number, so that hits have the
// size the daemon's hits have.
func owner(p query.PeerID) ultrapeer.Owner {
	v := peer(p)
	o := ultrapeer.Owner{
		ID:   string(p),
		Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(v >> 16), byte(v >> 8), byte(v)}), 6346),
	}
	for i := range o.Fingerprint {
		o.Fingerprint[i] = byte(v) ^ byte(i) | 1
	}
	return o
}
