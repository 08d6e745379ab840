package query

import (
	"fmt"
	"slices"
	"testing"

	"github.com/servent-p2p/servent/role"
)

// meshNet builds 8 ultrapeers (a ring plus chords, so the mesh is not
// complete) and 32 leaves, each attached to two ultrapeers and sharing one
// file. Ultrapeers answer for their leaves and exchange QRP tables.
func meshNet(t *testing.T, lastHop bool) (*testNet, []PeerID) {
	t.Helper()
	n := newTestNet(t)
	const nu, nl = 8, 32
	ups := make([]PeerID, nu)
	for i := range ups {
		ups[i] = PeerID(fmt.Sprint("u", i))
	}
	leafFiles := map[PeerID][]string{}
	attached := map[PeerID][]PeerID{}
	var leaves []PeerID
	for i := range nl {
		l := PeerID(fmt.Sprint("l", i))
		leaves = append(leaves, l)
		u1, u2 := ups[i%nu], ups[(i*3+1)%nu]
		if u1 == u2 {
			u2 = ups[(i+1)%nu]
		}
		attached[u1] = append(attached[u1], l)
		attached[u2] = append(attached[u2], l)
		leafFiles[l] = []string{fmt.Sprintf("share/file%02d report.txt", i)}
		cfg := DefaultConfig(l)
		r := NewRouter(cfg, nil)
		r.SetTopology(role.Leaf, nil, []PeerID{u1, u2}, nil)
		n.routers[l] = r
	}
	tables := map[PeerID]*Table{}
	for i, u := range ups {
		var files []string
		tb := NewTable(DefaultTableBits)
		for _, l := range attached[u] {
			files = append(files, leafFiles[l]...)
			tb.AddFile(leafFiles[l][0], fileHash(leafFiles[l][0]))
		}
		tables[u] = tb
		cfg := DefaultConfig(u)
		cfg.LastHopQRP = lastHop
		cfg.QueryRate = 0 // 1024 searches at one instant
		r := NewRouter(cfg, &shares{node: string(u), files: files})
		mesh := []PeerID{ups[(i+1)%nu], ups[(i+nu-1)%nu]}
		if i%2 == 0 {
			mesh = append(mesh, ups[(i+nu/2)%nu])
		}
		r.SetTopology(role.Ultrapeer, mesh, nil, attached[u])
		n.routers[u] = r
	}
	for _, u := range ups { // make the mesh symmetric, then exchange tables
		r := n.routers[u]
		for _, p := range r.neighbours {
			pr := n.routers[p]
			if !slices.Contains(pr.neighbours, u) {
				pr.SetTopology(role.Ultrapeer, append(pr.neighbours, u), nil, pr.leaves)
			}
		}
	}
	for _, u := range ups {
		for _, p := range n.routers[u].neighbours {
			n.routers[u].SetNeighbourTable(p, tables[p])
		}
	}
	return n, leaves
}

func TestMeshRecall(t *testing.T) {
	upMessages := map[bool]uint64{}
	for _, lastHop := range []bool{false, true} {
		n, leaves := meshNet(t, lastHop)
		for i, l := range leaves {
			for j := range leaves {
				g := GUID{byte(i), byte(j), 0xEE}
				word := fmt.Sprintf("file%02d", j)
				n.run(l, n.routers[l].Originate(n.now, g, &Query{Criteria: word + " REPORT"}, 4))
				found := false
				for _, d := range n.delivered[l] {
					if d.GUID == g && d.Hit.Results[0].Name == fmt.Sprintf("share/file%02d report.txt", j) {
						found = true
					}
				}
				if !found {
					t.Fatalf("lastHop=%v: %s did not find file%02d", lastHop, l, j)
				}
			}
		}
		for _, l := range leaves {
			if c := n.routers[l].Counters(); c.Query.Received != 0 {
				t.Errorf("leaf %s received %d queries", l, c.Query.Received)
			}
		}
		for id, r := range n.routers {
			if id[0] == 'u' {
				upMessages[lastHop] += r.Counters().Query.Forwarded
			}
		}
	}
	t.Logf("ultrapeer-to-ultrapeer query messages for %d searches: %d without last-hop QRP, %d with",
		32*32, upMessages[false], upMessages[true])
	if upMessages[true] >= upMessages[false] {
		t.Errorf("last-hop QRP did not reduce mesh traffic: %v", upMessages)
	}
}

// TestAnswered checks answer marks: a leaf's search that asks for them
// learns that each of the 8 ultrapeers answered, exactly once, whether it
// had a match or not (last-hop QRP lets such a query through: every
// ultrapeer answers itself); no empty hit is delivered; a search that does
// not ask sends no empty hit.
func TestAnswered(t *testing.T) {
	for _, lastHop := range []bool{false, true} {
		n, leaves := meshNet(t, lastHop)
		l := leaves[0]
		for i, word := range []string{"file05 report", "nothing-here"} {
			g := GUID{byte(i), 0xAB}
			before := n.messages
			n.run(l, n.routers[l].Originate(n.now, g, &Query{Criteria: word, WantAnswered: true}, 4))
			var got []PeerID
			for _, a := range n.answered[l] {
				if a.GUID != g {
					t.Fatalf("answer for %x, want %x", a.GUID, g)
				}
				got = append(got, a.Node)
			}
			slices.Sort(got)
			if want := []PeerID{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"}; !slices.Equal(got, want) {
				t.Fatalf("lastHop=%v %q: answered %v, want %v", lastHop, word, got, want)
			}
			n.answered[l] = nil
			for _, d := range n.delivered[l] {
				if len(d.Hit.Results) == 0 {
					t.Fatalf("empty hit delivered: %+v", d.Hit)
				}
			}
			marked := n.messages - before
			g[2] = 1
			before = n.messages
			n.run(l, n.routers[l].Originate(n.now, g, &Query{Criteria: word}, 4))
			if len(n.answered[l]) != 0 {
				t.Fatalf("answers without asking: %v", n.answered[l])
			}
			t.Logf("lastHop=%v %q: %d messages with answer marks, %d without", lastHop, word, marked, n.messages-before)
			if marked <= n.messages-before {
				t.Errorf("answer marks cost nothing: the empty answers were not sent")
			}
		}
	}
}
