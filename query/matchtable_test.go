package query

import (
	"slices"
	"testing"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query/matchtest"
)

// TestMatchTable runs the real-world table through MatchFile.
func TestMatchTable(t *testing.T) {
	keywords := make([][]string, len(matchtest.Files))
	for i, f := range matchtest.Files {
		keywords[i] = content.Keywords(f)
	}
	for _, c := range matchtest.Cases {
		t.Run(c.Query, func(t *testing.T) {
			words := content.QueryWords(c.Query)
			var got []string
			for i, f := range matchtest.Files {
				if MatchesFile(words, keywords[i]) {
					got = append(got, f)
				}
			}
			if !slices.Equal(got, c.Want) {
				t.Errorf("query %q (words %q) found %q, want %q", c.Query, words, got, c.Want)
			}
		})
	}
}
