package ultrapeer

import (
	"math"
	"testing"

	"github.com/servent-p2p/servent/role"
)

// TestForcedRoleRoundTrip: what a node publishes for its configured role is
// read back as that role by every member, whatever its measured capacity.
func TestForcedRoleRoundTrip(t *testing.T) {
	scores := []float64{0, -3, 1e-60, 0.5, 42, 1e38, math.MaxFloat32, 1e300, math.Inf(1)}
	for _, forced := range []role.Role{role.None, role.Leaf, role.Ultrapeer} {
		for _, s := range scores {
			p := PublishedCapacity(forced, s)
			if got := ForcedRole(p); got != forced {
				t.Errorf("forced %v, score %g: published %g, read back as %v", forced, s, p, got)
			}
		}
	}
	if p := PublishedCapacity(role.None, 42.5); p != 42.5 {
		t.Errorf("an automatic node publishes %g, want its score 42.5", p)
	}
}
