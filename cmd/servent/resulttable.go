package main

import (
	"fmt"
	"io"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/internal/names"
)

// maxRedrawRows is how many rows a terminal table keeps ranked by
// redrawing itself; beyond that (more than a screen) new rows are appended.
const maxRedrawRows = 30

// resultTable prints search results as they arrive: on a terminal it
// redraws itself ranked (api.SortResults) while it fits a screen; elsewhere
// rows are appended in arrival order. Row numbers are what `servent get N`
// takes: rows() returns the results in the order last shown.
type resultTable struct {
	w      io.Writer
	redraw bool
	byHash map[string]int // index in results
	res    []api.Result
	order  []int // indices of res in display order
	drawn  int   // lines drawn by the last redraw (header included)
	frozen bool  // past maxRedrawRows: append only
}

func newResultTable(w io.Writer, terminal bool) *resultTable {
	t := &resultTable{w: w, redraw: terminal, byHash: map[string]int{}}
	t.drawn = t.header()
	return t
}

func (t *resultTable) header() int {
	fmt.Fprintf(t.w, "%-3s %10s %7s  %s\n", "#", "SIZE", "SOURCES", "NAME")
	return 1
}

// row prints one result: the best-matching name (its share-relative path,
// so the folder it is in shows), how many other names its peers gave the
// same content, and how many of its sources hold only part of it.
func (t *resultTable) row(n int, r api.Result) {
	name := names.Display(r.Name)
	if len(r.Names) > 1 {
		name += fmt.Sprintf("  (+%d other names)", len(r.Names)-1)
	}
	name += partialNote(r.Sources)
	fmt.Fprintf(t.w, "%-3d %10s %7d  %s\n", n, humanBytes(r.Size), len(r.Sources), name)
}

// add records a new or grown result and updates the display.
func (t *resultTable) add(r api.Result) {
	i, seen := t.byHash[r.Hash]
	if seen {
		t.res[i] = r
	} else {
		i = len(t.res)
		t.byHash[r.Hash] = i
		t.res = append(t.res, r)
		t.order = append(t.order, i)
	}
	if !t.redraw || t.frozen || len(t.res) > maxRedrawRows {
		t.frozen = t.frozen || t.redraw
		if !seen {
			t.row(len(t.order), r)
		}
		return
	}
	ranked := make([]api.Result, len(t.res))
	copy(ranked, t.res)
	api.SortResults(ranked)
	fmt.Fprintf(t.w, "\x1b[%dF\x1b[J", t.drawn) // up to the header's line, clear below
	t.drawn = t.header()
	for n, rr := range ranked {
		t.order[n] = t.byHash[rr.Hash]
		t.row(n+1, rr)
		t.drawn++
	}
}

// rows returns the results in the order shown (numbered from 1).
func (t *resultTable) rows() []api.Result {
	out := make([]api.Result, len(t.order))
	for n, i := range t.order {
		out[n] = t.res[i]
	}
	return out
}

// partialNote says how many of a result's sources are partial holders
// (downloads in progress): "  (partial)" when all are, "  (2 partial)"
// when some are, "" when none is.
func partialNote(srcs []api.Source) string {
	n := 0
	for _, s := range srcs {
		if s.Partial {
			n++
		}
	}
	switch {
	case n == 0:
		return ""
	case n == len(srcs):
		return "  (partial)"
	}
	return fmt.Sprintf("  (%d partial)", n)
}
