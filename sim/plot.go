package sim

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/servent-p2p/servent/internal/chart"
)

// CheckPlotPath reports whether path names a format Plot writes (".svg" or
// ".png"); an empty path is fine (no plot).
func CheckPlotPath(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg", ".png":
		return nil
	}
	if path == "" {
		return nil
	}
	return fmt.Errorf("plot file %q (want .svg or .png): %w", path, ErrSpec)
}

// Plot draws two panels into path (.svg or .png): messages per query against
// network size, log-log, one line per mode at its largest TTL (with the
// smart lower bound, ultrapeers − 1, dashed); and recall (at least one copy)
// against TTL, one line per mode, at the largest size.
func Plot(path string, r *Report) error {
	if err := CheckPlotPath(path); err != nil {
		return err
	}
	c := chart.Chart{Width: 792, Height: 324, Panels: []chart.Panel{sizePanel(r), recallPanel(r)}} // 11 × 4.5 inches
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	w := bufio.NewWriter(f)
	if strings.EqualFold(filepath.Ext(path), ".svg") {
		err = c.WriteSVG(w)
	} else {
		err = c.WritePNG(w, 120.0/72) // 120 dpi
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

// modesOf lists the modes present in r, in first-appearance order.
func modesOf(r *Report) []string {
	var out []string
	for _, row := range r.Rows {
		if !slices.Contains(out, row.Mode) {
			out = append(out, row.Mode)
		}
	}
	return out
}

func sizePanel(r *Report) chart.Panel {
	p := chart.Panel{
		Title:     "Messages per query vs network size (labels: recall < 100%)",
		X:         chart.Axis{Label: "nodes", Log: true},
		Y:         chart.Axis{Label: "query messages per query", Log: true},
		LegendTop: true, LegendLeft: true,
	}
	var bound []chart.Point
	for _, m := range modesOf(r) {
		best := map[int]Row{} // nodes → row with the largest TTL
		for _, row := range r.Rows {
			if row.Mode == m && row.MsgsPerQuery > 0 && row.TTL >= best[row.Nodes].TTL {
				best[row.Nodes] = row
			}
		}
		var pts []chart.Point
		for n, row := range best {
			pts = append(pts, chart.Point{X: float64(n), Y: row.MsgsPerQuery})
			if row.RecallAny < 1 {
				p.Labels = append(p.Labels, chart.Label{At: pts[len(pts)-1], Text: fmt.Sprintf("%.0f%%", 100*row.RecallAny)})
			}
			if m == string(ModeSmart) && row.LowerBound > 0 {
				bound = append(bound, chart.Point{X: float64(n), Y: float64(row.LowerBound)})
			}
		}
		sortXY(pts)
		if len(pts) > 0 {
			p.Series = append(p.Series, chart.Series{Name: fmt.Sprintf("%s (ttl %d)", m, best[int(pts[0].X)].TTL), Points: pts})
		}
	}
	if len(bound) > 0 {
		sortXY(bound)
		p.Series = append(p.Series, chart.Series{Name: "ultrapeers − 1", Points: bound, Dashed: true})
	}
	slices.SortStableFunc(p.Labels, func(a, b chart.Label) int { return cmp.Compare(a.At.X, b.At.X) })
	return p
}

func recallPanel(r *Report) chart.Panel {
	nodes := 0
	for _, row := range r.Rows {
		nodes = max(nodes, row.Nodes)
	}
	p := chart.Panel{
		Title: fmt.Sprintf("Recall vs TTL (%d nodes)", nodes),
		X:     chart.Axis{Label: "TTL"},
		Y:     chart.Axis{Label: "queries with ≥ 1 hit (%)", Min: 0, Max: 105},
	}
	for _, m := range modesOf(r) {
		var pts []chart.Point
		for _, row := range r.Rows {
			if row.Mode == m && row.Nodes == nodes {
				pts = append(pts, chart.Point{X: float64(row.TTL), Y: 100 * row.RecallAny})
			}
		}
		sortXY(pts)
		p.Series = append(p.Series, chart.Series{Name: m, Points: pts})
	}
	return p
}

func sortXY(pts []chart.Point) {
	slices.SortFunc(pts, func(a, b chart.Point) int { return cmp.Compare(a.X, b.X) })
}
