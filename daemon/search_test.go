package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/query/matchtest"
	"github.com/servent-p2p/servent/role"
)

// TestClusterSearchTable runs the real-world table of names and queries
// (package matchtest) through a real 2-node network, from the leaf and
// from the ultrapeer: node 1 shares the table's files. Every search must
// find exactly the table's files and end because every ultrapeer answered
// (SearchDone.Complete), long before its timeout.
func TestClusterSearchTable(t *testing.T) {
	o := clusterOptions{nodes: 2, routing: "smart", leavesPerUltrapeer: 30, meshDegree: 4, ttl: 4,
		configure: func(i int, cfg *configs.Config) {
			if i != 1 {
				return
			}
			for j, f := range matchtest.Files {
				os.WriteFile(filepath.Join(cfg.Shares[0], f), []byte(fmt.Sprintf("file %d", j)), 0o644)
			}
		}}
	c := startCluster(t, o)
	c.settled(30 * time.Second)
	const timeout = 10 * time.Second
	for _, d := range c.nodes {
		for _, tc := range matchtest.Cases {
			var got []string
			done := d.searcher.search(t.Context(), api.SearchRequest{Words: content.QueryWords(tc.Query), Timeout: timeout}, func(r api.Result) {
				if !slices.Contains(got, r.Name) {
					got = append(got, r.Name)
				}
			})
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.Want))
			if !slices.Equal(got, want) {
				t.Errorf("%s (%s) query %q: found %q, want %q", d.ov.Name(), d.role(), tc.Query, got, want)
			}
			if !done.Complete || done.Elapsed > timeout/2 {
				t.Fatalf("%s query %q: ended after %v, complete=%v: not when every ultrapeer answered", d.ov.Name(), tc.Query, done.Elapsed, done.Complete)
			}
		}
		first := d.searcher.search(t.Context(), api.SearchRequest{Words: []string{"evac"}, Timeout: timeout}, func(api.Result) {})
		t.Logf("%s (%s): %q: first hit after %v, search ended after %v", d.ov.Name(), d.role(), "evac", first.FirstHit, first.Elapsed)
	}
}

// TestClusterQRPTables checks the ROUTE_TABLE_UPDATE links end to end: on
// a 9-node network with 3 ultrapeers, every ultrapeer holds, from each mesh
// neighbour, a table with the neighbour's own file word and its prefixes (doc003, doc0).
func TestClusterQRPTables(t *testing.T) {
	o := clusterOptions{nodes: 9, routing: "smart", leavesPerUltrapeer: 3, meshDegree: 4, ttl: 3}
	c := startCluster(t, o)
	c.settled(60 * time.Second)
	var why string
	defer func() {
		if t.Failed() {
			t.Log("last state:", why)
		}
	}()
	eventually(t, 30*time.Second, "every ultrapeer holds its neighbours' tables", func() bool {
		ups := c.byRole(role.Ultrapeer)
		if len(ups) != 3 {
			why = fmt.Sprintf("%d ultrapeers", len(ups))
			return false
		}
		for _, u := range ups {
			for _, nb := range u.Status().Mesh {
				var tb *query.Table
				u.withRouter(func(r *query.Router) { tb = r.NeighbourTable(query.PeerID(nb)) })
				word := c.files[slices.IndexFunc(c.nodes, func(d *Daemon) bool { return d.ov.Name() == nb })]
				if tb == nil || tb.Bits() != query.DefaultTableBits || !tb.Contains(word) || !tb.Contains(word[:4]) {
					why = fmt.Sprintf("%s: table from %s: %v", u.ov.Name(), nb, tb != nil)
					return false
				}
			}
		}
		return true
	})
}
