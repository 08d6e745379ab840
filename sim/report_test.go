package sim

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	row := func(mode string, nodes, ttl int, msgs, recall float64) Row {
		return Row{Mode: mode, Topology: "random d=4", Nodes: nodes, TTL: ttl, Queries: 10, MsgsPerQuery: msgs,
			HitsPerQuery: 2, BytesPerQuery: msgs * 36, Reached: msgs / 2, RecallAny: recall, RecallCopies: recall / 2,
			FirstHitHops: 2.5, FirstHitLatency: 50 * time.Millisecond, BusiestMax: 3, BusiestP99: 1, LowerBound: nodes - 1}
	}
	return &Report{
		Notes: []string{"a note"},
		Rows: []Row{
			row("flood", 100, 3, 300, 0.5), row("flood", 100, 7, 380, 1), row("flood", 1000, 7, 2300, 0.9),
			row("smart", 100, 3, 20, 1), row("smart", 100, 7, 25, 1), row("smart", 1000, 7, 210, 1),
		},
	}
}

func TestRenderFormats(t *testing.T) {
	r := sampleReport()
	var tab, md, js, cs bytes.Buffer
	for _, f := range []struct {
		format string
		buf    *bytes.Buffer
	}{{"table", &tab}, {"markdown", &md}, {"json", &js}, {"csv", &cs}} {
		if err := r.Render(f.buf, f.format); err != nil {
			t.Fatalf("%s: %v", f.format, err)
		}
	}
	lines := strings.Split(strings.TrimRight(tab.String(), "\n"), "\n")
	if len(lines) != 1+len(r.Rows)+len(r.Notes) || !strings.Contains(lines[0], "msgs/q") || lines[len(lines)-1] != "# a note" {
		t.Fatalf("table:\n%s", tab.String())
	}
	if w := len(lines[0]); len(lines[1]) != w || len(lines[6]) != w {
		t.Errorf("table columns not aligned:\n%s", tab.String())
	}
	if !strings.HasPrefix(md.String(), "| mode | topology |") || !strings.Contains(md.String(), "| smart | random d=4 | 1000 | 7 | 210.0 |") {
		t.Errorf("markdown:\n%s", md.String())
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || !reflect.DeepEqual(&back, r) {
		t.Errorf("json round trip: %v\n%s", err, js.String())
	}
	recs, err := csv.NewReader(&cs).ReadAll()
	if err != nil || len(recs) != 1+len(r.Rows) || recs[0][5] != "msgs_per_query" || recs[2][5] != "380" || recs[2][14] != "50" {
		t.Errorf("csv: %v\n%s", err, cs.String())
	}
	if err := r.Render(&tab, "xml"); !errors.Is(err, ErrSpec) {
		t.Errorf("xml: %v", err)
	}
}

func TestCheapest(t *testing.T) {
	r := sampleReport()
	if row, ok := r.Cheapest("flood", 100, 1); !ok || row.TTL != 7 {
		t.Errorf("flood: %+v %v", row, ok)
	}
	if row, ok := r.Cheapest("smart", 100, 1); !ok || row.TTL != 3 {
		t.Errorf("smart: %+v %v", row, ok)
	}
	if _, ok := r.Cheapest("flood", 1000, 1); ok {
		t.Error("flood at 1000 never reaches full recall")
	}
}

func TestPlot(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"p.svg", "p.png"} {
		path := filepath.Join(dir, name)
		if err := Plot(path, sampleReport()); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		magic := "<?xml"
		if strings.HasSuffix(name, ".png") {
			magic = "\x89PNG"
		}
		if !bytes.HasPrefix(b, []byte(magic)) || len(b) < 2000 {
			t.Errorf("%s: %d bytes starting %q", name, len(b), b[:min(len(b), 8)])
		}
	}
	if err := Plot(filepath.Join(dir, "p.pdf"), sampleReport()); !errors.Is(err, ErrSpec) {
		t.Errorf("pdf: %v", err)
	}
}
