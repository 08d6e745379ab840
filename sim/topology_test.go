package sim

import (
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func TestReadEdgeList(t *testing.T) {
	in := "# a comment\n\n10 20\n20 10\n10 10\n20\t30\n  30 10 extra\n# 40 50\n99 99\n"
	g, err := ReadEdgeList(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	// 10→0, 20→1, 30→2, 99→3 (a node seen only in a self-loop stays, isolated).
	if g.N() != 4 || g.Edges() != 3 {
		t.Fatalf("%d nodes, %d edges; want 4, 3", g.N(), g.Edges())
	}
	want := [][]int32{{1, 2}, {0, 2}, {0, 1}, {}}
	for v, nb := range want {
		if got := g.Neighbours(v); !equalInt32(got, nb) {
			t.Errorf("neighbours of %d: %v, want %v", v, got, nb)
		}
	}
}

func TestReadEdgeListErrors(t *testing.T) {
	for _, in := range []string{"", "# only\n", "1\n", "1 x\n", "-1 2\n", "1 1\n"} {
		if _, err := ReadEdgeList(strings.NewReader(in)); !errors.Is(err, ErrTopology) {
			t.Errorf("%q: err %v, want ErrTopology", in, err)
		}
	}
}

// TestGnutella08 reads the real crawl: 6,301 hosts and 20,777 distinct
// undirected connections (checked independently), mean degree ≈ 6.6.
func TestGnutella08(t *testing.T) {
	f, err := os.Open("../../shared/topologies/p2p-Gnutella08.txt")
	if err != nil {
		t.Skip("crawl not available:", err)
	}
	defer f.Close()
	g, err := ReadEdgeList(f)
	if err != nil {
		t.Fatal(err)
	}
	if g.N() != 6301 || g.Edges() != 20777 {
		t.Fatalf("%d nodes, %d edges; want 6301, 20777", g.N(), g.Edges())
	}
	checkSimple(t, g)
}

func TestGenerators(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	rr, err := RandomRegular(1001, 4, rng)
	if err != nil {
		t.Fatal(err)
	}
	checkSimple(t, rr)
	if e := rr.Edges(); e < 1990 || e > 2002 {
		t.Errorf("random regular: %d edges, want about 2002", e)
	}
	for v := range rr.N() {
		if rr.Degree(v) > 4 {
			t.Fatalf("random regular: node %d has degree %d", v, rr.Degree(v))
		}
	}
	er, err := ErdosRenyi(1000, 4, rng)
	if err != nil {
		t.Fatal(err)
	}
	checkSimple(t, er)
	if er.Edges() != 2000 {
		t.Errorf("erdős–rényi: %d edges, want 2000", er.Edges())
	}
	ba, err := BarabasiAlbert(1000, 2, rng)
	if err != nil {
		t.Fatal(err)
	}
	checkSimple(t, ba)
	if want := 3 + 997*2; ba.Edges() != want {
		t.Errorf("barabási–albert: %d edges, want %d", ba.Edges(), want)
	}
	maxDeg := 0
	for v := range ba.N() {
		maxDeg = max(maxDeg, ba.Degree(v))
	}
	if maxDeg < 30 {
		t.Errorf("barabási–albert: largest degree %d, want a hub", maxDeg)
	}
	for _, bad := range []func() (*Graph, error){
		func() (*Graph, error) { return RandomRegular(5, 5, rng) },
		func() (*Graph, error) { return ErdosRenyi(3, 10, rng) },
		func() (*Graph, error) { return BarabasiAlbert(2, 2, rng) },
	} {
		if _, err := bad(); !errors.Is(err, ErrTopology) {
			t.Errorf("err %v, want ErrTopology", err)
		}
	}
}

// checkSimple verifies the CSR invariants: sorted, no self-loop, no
// duplicate, symmetric.
func checkSimple(t *testing.T, g *Graph) {
	t.Helper()
	for v := range g.N() {
		nb := g.Neighbours(v)
		for i, u := range nb {
			if int(u) == v || (i > 0 && nb[i-1] >= u) {
				t.Fatalf("node %d: neighbours %v", v, nb)
			}
			if !containsInt32(g.Neighbours(int(u)), int32(v)) {
				t.Fatalf("edge %d-%d not symmetric", v, u)
			}
		}
	}
}

func equalInt32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzReadEdgeList(f *testing.F) {
	for _, s := range []string{"1 2\n2 3\n", "# c\n5 5\n5 6\n", "1\t2 x\n\n3 1\n", "a b\n", "18446744073709551615 0\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ReadEdgeList(strings.NewReader(s))
		if err != nil {
			if !errors.Is(err, ErrTopology) {
				t.Fatalf("err %v not ErrTopology", err)
			}
			return
		}
		checkSimple(t, g)
	})
}
