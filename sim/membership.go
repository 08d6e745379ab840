package sim

import (
	"fmt"

	"github.com/servent-p2p/servent/ultrapeer"
)

// MemberName is the name of node i in a GraphMembership simulation and the
// --name of the i-th servent of a live run: "live000", "live001", ...
func MemberName(i int) string { return fmt.Sprintf("live%03d", i) }

// MembershipGraph is the flood topology the daemons of n members named
// MemberName(0..n-1) build: each links to ultrapeer.Mesh(self, all names,
// degree), as daemon.computeTopology does with routing flood; computed at
// once with ultrapeer.MeshGraph, which equals Mesh for every member.
func MembershipGraph(n, degree int) *Graph {
	names := make([]string, n)
	index := make(map[string]int32, n)
	for i := range names {
		names[i] = MemberName(i)
		index[names[i]] = int32(i)
	}
	var edges []edge
	mesh := ultrapeer.MeshGraph(names, degree)
	for i, self := range names {
		for _, nb := range mesh[self] {
			edges = append(edges, edge{int32(i), index[nb]})
		}
	}
	return fromEdges(n, edges)
}
