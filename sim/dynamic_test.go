package sim

import (
	"context"
	"testing"
)

// TestDynamicCheaperThanQRP is the goal at small scale: on 3,000
// nodes (100 ultrapeers) dynamic querying finds a copy of a 3-copy file
// for at least 99% of the queries with fewer query messages than qrp at
// TTL 5, and on rare (1-copy) files it still finds every one the mesh
// holds within the same TTL.
func TestDynamicCheaperThanQRP(t *testing.T) {
	for _, k := range []int{3, 1} {
		rep, err := Run(context.Background(), Config{
			Nodes: []int{3000}, Modes: []Mode{ModeQRP, ModeDynamic}, TTLs: []int{5},
			Queries: 100, Seed: 7, Replication: Replication{K: k},
		})
		if err != nil {
			t.Fatal(err)
		}
		qrp, dyn := rep.Rows[0], rep.Rows[1]
		t.Logf("uniform:%d: qrp %.1f msgs/q, recall %.3f; dynamic %.1f msgs/q, recall %.3f, copies %.3f",
			k, qrp.MsgsPerQuery, qrp.RecallAny, dyn.MsgsPerQuery, dyn.RecallAny, dyn.RecallCopies)
		if dyn.Mode != "dynamic" || dyn.Ultrapeers != 100 {
			t.Fatalf("row %+v", dyn)
		}
		if dyn.RecallAny < 0.99 {
			t.Errorf("uniform:%d: dynamic recall %.3f, want >= 0.99", k, dyn.RecallAny)
		}
		if dyn.MsgsPerQuery >= qrp.MsgsPerQuery {
			t.Errorf("uniform:%d: dynamic %.1f msgs/q, not fewer than qrp's %.1f", k, dyn.MsgsPerQuery, qrp.MsgsPerQuery)
		}
	}
}
