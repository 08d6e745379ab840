package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/servent-p2p/servent/api"
)

// oneResult is a last search with a single result, which a name prefix ""
// would select.
var oneResult = []api.Result{{Name: "map.pdf", Hash: strings.Repeat("ab", 32), Size: 3}}

// TestGetEmptyNameRefused: `servent get ""` names no file; it must not take
// the only result of the last search.
func TestGetEmptyNameRefused(t *testing.T) {
	data := t.TempDir()
	if err := writeLastSearch(data, oneResult); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "  "} {
		_, stderr, code := servent(t, "get", "--data", data, name)
		if code != 2 || !strings.Contains(stderr, "empty name") {
			t.Fatalf("get %q: exit %d, stderr %q; want 2 and a message about the empty name", name, code, stderr)
		}
	}
}

// TestSaveLastSearchFailureDropsStaleResults: when a search's results
// cannot be saved, the error says so and a later `get 1` does not take
// the previous search's result.
func TestSaveLastSearchFailureDropsStaleResults(t *testing.T) {
	data := t.TempDir()
	if err := saveLastSearch(data, oneResult); err != nil {
		t.Fatal(err)
	}
	if r, err := resolveTarget(data, "1"); err != nil || r.Name != "map.pdf" {
		t.Fatalf("get 1 after a saved search: %+v, %v", r, err)
	}
	// A directory where the temporary file goes makes the write fail,
	// whoever runs the test (root included).
	if err := os.Mkdir(filepath.Join(data, lastSearchFile+".tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := saveLastSearch(data, []api.Result{{Name: "other.txt", Hash: strings.Repeat("cd", 32)}})
	if err == nil || !strings.Contains(err.Error(), "could not be saved") {
		t.Fatalf("saving failed silently: %v", err)
	}
	if r, err := resolveTarget(data, "1"); err == nil {
		t.Fatalf("get 1 took %q from an older search", r.Name)
	}
}
