package ultrapeer

import (
	"slices"
	"testing"
)

// bfs returns the number of nodes reached from start and the eccentricity
// of start.
func bfs(g map[string][]string, start string) (reached, depth int) {
	dist := map[string]int{start: 0}
	queue := []string{start}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, v := range g[u] {
			if _, ok := dist[v]; !ok {
				dist[v] = dist[u] + 1
				depth = max(depth, dist[v])
				queue = append(queue, v)
			}
		}
	}
	return len(dist), depth
}

func TestMesh(t *testing.T) {
	for _, tc := range []struct {
		n, degree int
		maxDepth  int
	}{
		{1, 8, 0}, {2, 8, 1}, {9, 8, 1}, {10, 8, 3}, {11, 3, 5}, {12, 3, 5},
		{40, 8, 4}, {200, 8, 5}, {1000, 4, 14}, {1000, 1, 1000}, {3400, 8, 7},
	} {
		ups := ids("up", tc.n)
		g := MeshGraph(ups, tc.degree)
		limit := max(tc.degree, 2)
		for _, u := range ups {
			links := g[u]
			if len(links) > limit {
				t.Fatalf("n=%d d=%d: %s has %d links", tc.n, tc.degree, u, len(links))
			}
			if tc.n <= limit+1 && len(links) != tc.n-1 {
				t.Fatalf("n=%d d=%d: small set not complete: %v", tc.n, tc.degree, links)
			}
			if slices.Contains(links, u) {
				t.Fatalf("self-link at %s", u)
			}
			for _, v := range links {
				if !slices.Contains(g[v], u) {
					t.Fatalf("n=%d: %s->%s not symmetric", tc.n, u, v)
				}
			}
			if tc.n <= 200 || u == ups[0] {
				if own := Mesh(u, ups, tc.degree); !slices.Equal(own, links) {
					t.Fatalf("n=%d d=%d: Mesh(%s) = %v, MeshGraph = %v", tc.n, tc.degree, u, own, links)
				}
			}
		}
		reached, depth := bfs(g, ups[0])
		if reached != tc.n {
			t.Fatalf("n=%d d=%d: %d of %d reachable", tc.n, tc.degree, reached, tc.n)
		}
		if depth > tc.maxDepth {
			t.Errorf("n=%d d=%d: eccentricity %d > %d", tc.n, tc.degree, depth, tc.maxDepth)
		}
		t.Logf("n=%d degree=%d: eccentricity %d", tc.n, tc.degree, depth)
	}
	if Mesh("stranger", ids("up", 5), 8) != nil {
		t.Fatal("Mesh of a non-member")
	}
}

// TestMeshDisruption: one ultrapeer leaving changes few links.
func TestMeshDisruption(t *testing.T) {
	ups := ids("up", 200)
	before := MeshGraph(ups, 8)
	gone := ups[50]
	after := MeshGraph(slices.Delete(slices.Clone(ups), 50, 51), 8)
	changed := 0
	for _, u := range ups {
		if u != gone && !slices.Equal(before[u], after[u]) {
			changed++
		}
	}
	// Each of 4 cycles rewires the two neighbours of the gone node.
	if changed > 8 {
		t.Fatalf("%d ultrapeers changed links, want <= 8", changed)
	}
}

func BenchmarkMesh3400(b *testing.B) {
	ups := ids("up", 3400)
	b.ReportAllocs()
	for b.Loop() {
		Mesh("up-1234", ups, 8)
	}
}

func BenchmarkMeshGraph3400(b *testing.B) {
	ups := ids("up", 3400)
	b.ReportAllocs()
	for b.Loop() {
		MeshGraph(ups, 8)
	}
}
