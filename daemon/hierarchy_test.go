package daemon

import (
	"slices"
	"testing"

	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/ultrapeer"
)

// TestMakeRoom: a full ultrapeer lets in a leaf its plan gives it by
// dropping one the plan does not; it keeps a leaf out that the plan gives
// elsewhere, and drops nobody while it has room.
func TestMakeRoom(t *testing.T) {
	d := &Daemon{cfg: configs.Config{MaxLeaves: 2}, registry: ultrapeer.NewRegistry(2), log: quiet()}
	register := func(id string) ultrapeer.Message {
		return d.registry.Handle(ultrapeer.Owner{ID: id}, ultrapeer.Update{Full: true, ToVersion: 1}, nil)
	}
	d.topo.leaves = []string{"a", "c"}
	register("a")
	d.makeRoom("b") // room left: nothing dropped
	register("b")
	if got := d.registry.Leaves(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("leaves %v", got)
	}
	d.makeRoom("x") // full, and x is planned elsewhere
	if _, refused := register("x").(*ultrapeer.Refuse); !refused {
		t.Fatal("an unplanned leaf got into a full ultrapeer")
	}
	d.makeRoom("c") // full, c is planned here: b, not planned, goes
	if _, ok := register("c").(*ultrapeer.Ack); !ok {
		t.Fatal("the planned leaf was refused")
	}
	if got := d.registry.Leaves(); !slices.Equal(got, []string{"a", "c"}) {
		t.Fatalf("leaves %v, want a and c", got)
	}
}
