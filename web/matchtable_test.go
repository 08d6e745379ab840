package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/servent-p2p/servent/query/matchtest"
)

// TestSearchPageMatchTable runs the real-world table of names and queries
// through the page: each query shows exactly the files the table wants.
// The in-test backend matches with query.MatchFile, the rule the daemon's
// registry implements (ultrapeer.TestRegistryAgreesWithMatchFile).
func TestSearchPageMatchTable(t *testing.T) {
	b := newTestBackend(t)
	for i, f := range matchtest.Files {
		b.addFile(f, []byte(fmt.Sprintf("file %d", i)), 1)
	}
	s, base := testServer(t, b, nil)
	s.searchLimit.mu.Lock()
	s.searchLimit.every = rate.Inf // this test searches far faster than a person
	s.searchLimit.mu.Unlock()
	c := newClient(t)
	for _, tc := range matchtest.Cases {
		resp, body := get(t, c, base+"/?q="+url.QueryEscape(tc.Query))
		if resp.StatusCode != 200 {
			t.Fatalf("query %q: status %d", tc.Query, resp.StatusCode)
		}
		summary := "No file found"
		switch len(tc.Want) {
		case 0:
		case 1:
			summary = "1 file found"
		default:
			summary = fmt.Sprintf("%d files found", len(tc.Want))
		}
		if !strings.Contains(body, summary) {
			t.Errorf("query %q: page lacks %q", tc.Query, summary)
		}
		for _, w := range tc.Want {
			if !strings.Contains(body, template.HTMLEscapeString(w)) {
				t.Errorf("query %q: page lacks %q", tc.Query, w)
			}
		}
	}
}
