package ultrapeer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/query/matchtest"
)

// matchSet returns the paths query.MatchFile finds among paths (keywords[i]
// is content.Keywords(paths[i])).
func matchSet(words []string, paths []string, keywords [][]string) []string {
	var out []string
	for i, p := range paths {
		if query.MatchesFile(words, keywords[i]) {
			out = append(out, p)
		}
	}
	return out
}

// registryPaths runs Registry.Match and returns the matched paths sorted.
func registryPaths(r *Registry, q string) []string {
	var out []string
	for _, om := range r.Match([]string{q}, nil, 0) {
		for _, e := range om.Entries {
			out = append(out, e.Path)
		}
	}
	slices.Sort(out)
	return out
}

// TestRegistryMatchTable runs the real-world table through the registry.
func TestRegistryMatchTable(t *testing.T) {
	r := NewRegistry(0)
	u := Update{Full: true, ToVersion: 1}
	for _, f := range matchtest.Files {
		u.Add = append(u.Add, entry(f))
	}
	mustApply(t, r, "leaf", u)
	for _, c := range matchtest.Cases {
		want := slices.Sorted(slices.Values(c.Want))
		if got := registryPaths(r, c.Query); !slices.Equal(got, want) {
			t.Errorf("query %q: registry found %q, want %q", c.Query, got, want)
		}
	}
}

// TestRegistryAgreesWithMatchFile checks on random names and queries that
// the registry's inverted index and query.MatchFile (the simulator's rule)
// find the same files.
func TestRegistryAgreesWithMatchFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	word := func() string { return matchtest.RandomWord(rng) }
	paths := matchtest.RandomNames(rng, 300)
	slices.Sort(paths)
	r := NewRegistry(0)
	u := Update{Full: true, ToVersion: 1}
	keywords := make([][]string, len(paths))
	for i, p := range paths {
		u.Add = append(u.Add, entry(p))
		keywords[i] = content.Keywords(p)
	}
	mustApply(t, r, "leaf", u)
	found := 0
	for i := range 500 {
		q := word()
		if i%2 == 0 {
			q += " " + word()
		}
		if rs := []rune(q); i%3 == 0 && len(rs) > 2 {
			q = string(rs[:2+rng.IntN(len(rs)-1)]) // a prefix
		}
		want := matchSet(content.QueryWords(q), paths, keywords)
		if got := registryPaths(r, q); !slices.Equal(got, want) {
			t.Fatalf("query %q: registry %q, MatchFile %q", q, got, want)
		}
		if len(want) > 0 {
			found++
		}
	}
	if found < 250 {
		t.Fatalf("only %d of 500 random queries found something: the test checks too little", found)
	}
}

// TestRegistryRanksExactFirst checks that a limited match keeps the files
// whose words match exactly before prefix matches.
func TestRegistryRanksExactFirst(t *testing.T) {
	r := NewRegistry(0)
	mustApply(t, r, "a", Update{Full: true, ToVersion: 1, Add: []Entry{entry("evacuation plan.pdf"), entry("evac.txt")}})
	got := fmt.Sprint(paths(r.Match([]string{"evac"}, nil, 1)))
	if got != "[a:evac.txt]" {
		t.Fatalf("limit 1 kept %s, want the exact match a:evac.txt", got)
	}
}
