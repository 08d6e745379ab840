package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/servent-p2p/servent/api"
)

func TestResultTable(t *testing.T) {
	src := func(n int) []api.Source { return make([]api.Source, n) }
	prefix := api.Result{Name: "evacuation.pdf", Hash: "a", Sources: src(1)}
	exact := api.Result{Name: "evac.txt", Hash: "b", Exact: 1, Sources: src(1)}
	grown := prefix
	grown.Sources = src(3)
	grown.Names = []string{"evacuation.pdf", "Evacuation (copy).pdf"}

	var term bytes.Buffer
	tt := newResultTable(&term, true)
	tt.add(prefix)
	tt.add(exact)
	tt.add(grown)
	got := tt.rows()
	if len(got) != 2 || got[0].Hash != "b" || got[1].Hash != "a" || len(got[1].Sources) != 3 {
		t.Fatalf("terminal rows %+v: want the exact match first, then the prefix match with 3 sources", got)
	}
	last := term.String()[strings.LastIndex(term.String(), "\x1b[J")+len("\x1b[J"):]
	if lines := strings.Split(strings.TrimSpace(last), "\n"); len(lines) != 3 || !strings.Contains(lines[1], "evac.txt") || !strings.Contains(lines[2], "      3  evacuation.pdf  (+1 other names)") {
		t.Errorf("last redraw:\n%s", last)
	}

	var pipe bytes.Buffer
	pt := newResultTable(&pipe, false)
	pt.add(prefix)
	pt.add(exact)
	pt.add(grown)
	if strings.Contains(pipe.String(), "\x1b") || strings.Count(pipe.String(), "\n") != 3 {
		t.Errorf("pipe output:\n%q", pipe.String())
	}
	if got := pt.rows(); got[0].Hash != "a" || got[1].Hash != "b" {
		t.Errorf("pipe rows are not in arrival order: %+v", got)
	}
}

// TestResultTablePartial: a result whose sources are partial holders says
// so after its name; a result with none prints as before.
func TestResultTablePartial(t *testing.T) {
	for _, tc := range []struct {
		srcs []api.Source
		want string
	}{
		{[]api.Source{{Name: "a"}}, "map.bin\n"},
		{[]api.Source{{Name: "a", Partial: true}}, "map.bin  (partial)\n"},
		{[]api.Source{{Name: "a", Partial: true}, {Name: "b"}, {Name: "c", Partial: true}}, "map.bin  (2 partial)\n"},
	} {
		var out bytes.Buffer
		newResultTable(&out, false).add(api.Result{Name: "map.bin", Hash: "a", Sources: tc.srcs})
		if !strings.HasSuffix(out.String(), tc.want) {
			t.Errorf("%d sources: %q, want it to end with %q", len(tc.srcs), out.String(), tc.want)
		}
	}
}
