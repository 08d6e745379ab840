package query

import (
	"testing"
	"time"

	"github.com/servent-p2p/servent/role"
)

// TestHitsOnlyFromWhereTheQueryWent checks hitFrom: a leaf takes hits only
// from its ultrapeers, an ultrapeer only from its neighbours other than
// the one the query came from.
func TestHitsOnlyFromWhereTheQueryWent(t *testing.T) {
	now := time.Unix(50, 0)
	hit := func(g GUID) *Descriptor {
		return &Descriptor{Header: Header{GUID: g, Type: TypeQueryHit, TTL: 3}, Hit: &QueryHit{Node: "x", Results: []FileResult{{Name: "f"}}}}
	}
	t.Run("leaf", func(t *testing.T) {
		r := NewRouter(DefaultConfig("leaf"), nil)
		r.SetTopology(role.Leaf, nil, []PeerID{"up1", "up2"}, nil)
		g := GUID{1}
		r.Originate(now, g, &Query{Criteria: "f"}, 3)
		for _, p := range []PeerID{"other-leaf", "up3", "leaf"} {
			if res := r.Handle(now, p, hit(g)); res.Drop != DropUnexpected || len(res.Delivered) != 0 {
				t.Errorf("hit from %s: drop %v, %d delivered; want unexpected", p, res.Drop, len(res.Delivered))
			}
		}
		if res := r.Handle(now, "up2", hit(g)); len(res.Delivered) != 1 {
			t.Errorf("hit from an ultrapeer of the leaf: %+v", res)
		}
		if c := r.Counters(); c.QueryHit.Dropped.Unexpected != 3 || c.QueryHit.Delivered != 1 {
			t.Errorf("counters %+v", c.QueryHit)
		}
	})
	t.Run("ultrapeer", func(t *testing.T) {
		r := NewRouter(DefaultConfig("up"), nil)
		r.SetTopology(role.Ultrapeer, []PeerID{"n1", "n2"}, nil, []PeerID{"leaf1", "leaf2"})
		g := GUID{2}
		r.Handle(now, "leaf1", &Descriptor{Header: Header{GUID: g, Type: TypeQuery, TTL: 3}, Query: &Query{Criteria: "f"}})
		for _, p := range []PeerID{"leaf2", "leaf1", "stranger"} {
			if res := r.Handle(now, p, hit(g)); res.Drop != DropUnexpected || len(res.Send) != 0 {
				t.Errorf("hit from %s: %+v, want dropped as unexpected", p, res)
			}
		}
		if res := r.Handle(now, "n2", hit(g)); len(res.Send) != 1 || res.Send[0].To != "leaf1" {
			t.Errorf("hit from a neighbour: %+v", res)
		}
		g2 := GUID{3}
		r.Handle(now, "n1", &Descriptor{Header: Header{GUID: g2, Type: TypeQuery, TTL: 3, Hops: 1}, Query: &Query{Criteria: "f"}})
		if res := r.Handle(now, "n1", hit(g2)); res.Drop != DropUnexpected {
			t.Errorf("hit from the neighbour the query came from: %+v", res)
		}
	})
}
