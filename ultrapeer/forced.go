package ultrapeer

import (
	"math"

	"github.com/servent-p2p/servent/role"
)

// Node metadata has no field for a forced role (configuration key `role:
// leaf` or `role: ultrapeer`): a node publishes it through its capacity,
// and every member's election reads it back. These two functions are that
// encoding, the only place it is written down in code.

// ForcedUltrapeerCapacity is the capacity a node forced to be an ultrapeer
// publishes. A forced leaf publishes 0.
const ForcedUltrapeerCapacity = math.MaxFloat32

// PublishedCapacity is the capacity a node publishes in its metadata:
// 0 when forced is role.Leaf, ForcedUltrapeerCapacity when it is
// role.Ultrapeer, else its capacity score, kept strictly between the two so
// that an automatic node is never read as forced.
func PublishedCapacity(forced role.Role, score float64) float32 {
	switch forced {
	case role.Leaf:
		return 0
	case role.Ultrapeer:
		return ForcedUltrapeerCapacity
	}
	smallest := math.SmallestNonzeroFloat32
	largest := math.Nextafter32(ForcedUltrapeerCapacity, 0)
	return float32(min(max(score, smallest), float64(largest)))
}

// ForcedRole reads the forced role back from a member's published
// capacity: role.Leaf for 0 or less, role.Ultrapeer for
// ForcedUltrapeerCapacity or more, else role.None (the election decides).
func ForcedRole(published float32) role.Role {
	switch {
	case published <= 0:
		return role.Leaf
	case published >= ForcedUltrapeerCapacity:
		return role.Ultrapeer
	}
	return role.None
}
