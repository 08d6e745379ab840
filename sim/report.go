package sim

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the result of a benchmark: one Row per network size, mode and
// TTL, plus notes on how it was measured. It does not depend on the
// simulator: the live benchmark fills the same rows from real counters.
type Report struct {
	Notes []string `json:"notes,omitempty"`
	Rows  []Row    `json:"rows"`
}

// Row is the cost and the success of one mode at one size and TTL,
// averaged over the run's queries.
type Row struct {
	Mode     string `json:"mode"`
	Topology string `json:"topology"`
	Nodes    int    `json:"nodes"`
	TTL      int    `json:"ttl"`
	Queries  int    `json:"queries"`
	// MsgsPerQuery: query datagrams sent by all nodes, duplicates included,
	// hits excluded. HitsPerQuery: hit datagrams, every hop counted.
	MsgsPerQuery float64 `json:"msgs_per_query"`
	HitsPerQuery float64 `json:"hits_per_query"`
	// BytesPerQuery and HitBytesPerQuery: the same datagrams in bytes.
	BytesPerQuery    float64 `json:"bytes_per_query"`
	HitBytesPerQuery float64 `json:"hit_bytes_per_query"`
	// Reached: distinct nodes that received the query, origin excluded.
	// Dups: copies received again and dropped as duplicates.
	Reached float64 `json:"reached"`
	Dups    float64 `json:"dups"`
	// RecallAny: fraction of queries with at least one hit. RecallCopies:
	// fraction of all existing copies found.
	RecallAny    float64 `json:"recall_any"`
	RecallCopies float64 `json:"recall_copies"`
	// FirstHitHops and FirstHitLatency: links travelled by, and time from
	// origination to, the first useful hit (mean over queries with one).
	FirstHitHops    float64       `json:"first_hit_hops"`
	FirstHitLatency time.Duration `json:"first_hit_latency_ns"`
	// BusiestMax and BusiestP99: descriptors (queries and hits) handled per
	// query by the busiest node and by the 99th-percentile node.
	BusiestMax float64 `json:"busiest_max"`
	BusiestP99 float64 `json:"busiest_p99"`
	// Ultrapeers in the hierarchy (0 for flood) and LowerBound: the
	// messages needed to reach every node that must see the query
	// (ultrapeers - 1 in smart modes, nodes - 1 in flood).
	Ultrapeers int `json:"ultrapeers"`
	LowerBound int `json:"lower_bound"`
	// Unattached: leaves with no ultrapeer; Short: leaves with some but
	// fewer than min(ultrapeers_per_leaf, ultrapeers). Both 0 when the
	// planner's count holds (smart and qrp; 0 for flood).
	Unattached int `json:"unattached"`
	Short      int `json:"short"`
}

// Formats understood by Render.
var Formats = []string{"table", "csv", "json", "markdown"}

// columns lists the header and cell formatter of each rendered column.
var columns = []struct {
	name string
	cell func(*Row) string
}{
	{"mode", func(r *Row) string { return r.Mode }},
	{"topology", func(r *Row) string { return r.Topology }},
	{"nodes", func(r *Row) string { return strconv.Itoa(r.Nodes) }},
	{"ttl", func(r *Row) string { return strconv.Itoa(r.TTL) }},
	{"msgs/q", func(r *Row) string { return fnum(r.MsgsPerQuery) }},
	{"hits/q", func(r *Row) string { return fnum(r.HitsPerQuery) }},
	{"bytes/q", func(r *Row) string { return fnum(r.BytesPerQuery) }},
	{"reached", func(r *Row) string { return fnum(r.Reached) }},
	{"dups", func(r *Row) string { return fnum(r.Dups) }},
	{"recall", func(r *Row) string { return fpct(r.RecallAny) }},
	{"copies", func(r *Row) string { return fpct(r.RecallCopies) }},
	{"hops", func(r *Row) string { return strconv.FormatFloat(r.FirstHitHops, 'f', 2, 64) }},
	{"latency_ms", func(r *Row) string {
		return strconv.FormatFloat(float64(r.FirstHitLatency)/float64(time.Millisecond), 'f', 1, 64)
	}},
	{"busiest", func(r *Row) string { return strconv.FormatFloat(r.BusiestMax, 'f', 2, 64) }},
	{"p99", func(r *Row) string { return strconv.FormatFloat(r.BusiestP99, 'f', 2, 64) }},
	{"ultrapeers", func(r *Row) string { return strconv.Itoa(r.Ultrapeers) }},
	{"lower_bound", func(r *Row) string { return strconv.Itoa(r.LowerBound) }},
	{"unattached", func(r *Row) string { return strconv.Itoa(r.Unattached) }},
	{"short", func(r *Row) string { return strconv.Itoa(r.Short) }},
}

// fnum formats a per-query mean: one decimal below 1,000, none above.
func fnum(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func fpct(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// Render writes r in format: "table" (aligned columns, then the notes),
// "csv" (header line, raw numbers), "json" (indented) or "markdown" (a
// table, then the notes as a list).
func (r *Report) Render(w io.Writer, format string) error {
	switch format {
	case "table", "":
		return r.WriteTable(w)
	case "csv":
		return r.WriteCSV(w)
	case "json":
		return r.WriteJSON(w)
	case "markdown", "md":
		return r.WriteMarkdown(w)
	}
	return fmt.Errorf("format %q (want %s): %w", format, strings.Join(Formats, ", "), ErrSpec)
}

// WriteTable writes an aligned table followed by the notes.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for i, c := range columns {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, c.name)
	}
	fmt.Fprint(tw, "\t\n")
	for i := range r.Rows {
		for j, c := range columns {
			if j > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c.cell(&r.Rows[i]))
		}
		fmt.Fprint(tw, "\t\n")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	for _, n := range r.Notes {
		if _, err := fmt.Fprintln(w, "#", n); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	return nil
}

// WriteMarkdown writes a GitHub-flavoured table followed by the notes.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range columns {
		b.WriteString(" " + c.name + " |")
	}
	b.WriteString("\n|")
	for i := range columns {
		if i < 2 {
			b.WriteString("---|")
		} else {
			b.WriteString("--:|")
		}
	}
	b.WriteString("\n")
	for i := range r.Rows {
		b.WriteString("|")
		for _, c := range columns {
			b.WriteString(" " + c.cell(&r.Rows[i]) + " |")
		}
		b.WriteString("\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

// WriteCSV writes a header line and one line per row with full-precision
// numbers (latency in milliseconds).
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"mode", "topology", "nodes", "ttl", "queries", "msgs_per_query", "hits_per_query",
		"bytes_per_query", "hit_bytes_per_query", "reached", "dups", "recall_any", "recall_copies",
		"first_hit_hops", "first_hit_latency_ms", "busiest_max", "busiest_p99", "ultrapeers", "lower_bound", "unattached", "short"}
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, x := range r.Rows {
		rec := []string{x.Mode, x.Topology, strconv.Itoa(x.Nodes), strconv.Itoa(x.TTL), strconv.Itoa(x.Queries),
			g(x.MsgsPerQuery), g(x.HitsPerQuery), g(x.BytesPerQuery), g(x.HitBytesPerQuery), g(x.Reached),
			g(x.Dups), g(x.RecallAny), g(x.RecallCopies), g(x.FirstHitHops),
			g(float64(x.FirstHitLatency) / float64(time.Millisecond)), g(x.BusiestMax), g(x.BusiestP99),
			strconv.Itoa(x.Ultrapeers), strconv.Itoa(x.LowerBound), strconv.Itoa(x.Unattached), strconv.Itoa(x.Short)}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// Cheapest returns, among the rows of mode at nodes whose RecallAny is at
// least minRecall, the one with the fewest messages per query (the lowest
// TTL on a tie): the fair point to compare modes "at equal recall".
func (r *Report) Cheapest(mode string, nodes int, minRecall float64) (Row, bool) {
	var best Row
	found := false
	for _, row := range r.Rows {
		if row.Mode != mode || row.Nodes != nodes || row.RecallAny < minRecall {
			continue
		}
		if !found || row.MsgsPerQuery < best.MsgsPerQuery || (row.MsgsPerQuery == best.MsgsPerQuery && row.TTL < best.TTL) {
			best, found = row, true
		}
	}
	return best, found
}
