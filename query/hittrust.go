package query

import "slices"

// hitFrom reports whether a hit for the query remembered as e may come
// from peer from: only a peer this node sends queries to may answer them
// (a smart-mode leaf's ultrapeers; an ultrapeer's or flood node's
// neighbours), and never the peer the query came from. Any other member
// could otherwise inject hits into every search whose GUID it learns.
func (r *Router) hitFrom(from PeerID, e seenEntry) bool {
	if !e.origin && from == e.from {
		return false
	}
	if r.smartLeaf() {
		return slices.Contains(r.ultrapeers, from)
	}
	return slices.Contains(r.neighbours, from)
}
