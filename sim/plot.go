package sim

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
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
	left, err := sizePlot(r)
	if err != nil {
		return err
	}
	right, err := recallPlot(r)
	if err != nil {
		return err
	}
	const w, h = 11 * vg.Inch, 4.5 * vg.Inch
	svg := strings.EqualFold(filepath.Ext(path), ".svg")
	var c vg.CanvasWriterTo
	if svg {
		c = vgsvg.New(w, h)
	} else {
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(120))}
	}
	plots := [][]*plot.Plot{{left, right}}
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3,
		PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	canvases := plot.Align(plots, tiles, draw.New(c))
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot: %w", err)
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

func sizePlot(r *Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Messages per query vs network size (labels: recall < 100%)"
	p.X.Label.Text = "nodes"
	p.Y.Label.Text = "query messages per query"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	var args []any
	var bound plotter.XYs
	var partial plotter.XYLabels // points where not every query found a copy
	for _, m := range modesOf(r) {
		best := map[int]Row{} // nodes → row with the largest TTL
		for _, row := range r.Rows {
			if row.Mode == m && row.MsgsPerQuery > 0 && row.TTL >= best[row.Nodes].TTL {
				best[row.Nodes] = row
			}
		}
		xys := make(plotter.XYs, 0, len(best))
		for n, row := range best {
			xys = append(xys, plotter.XY{X: float64(n), Y: row.MsgsPerQuery})
			if row.RecallAny < 1 {
				partial.XYs = append(partial.XYs, plotter.XY{X: float64(n), Y: row.MsgsPerQuery})
				partial.Labels = append(partial.Labels, fmt.Sprintf("%.0f%%", 100*row.RecallAny))
			}
			if m == string(ModeSmart) && row.LowerBound > 0 {
				bound = append(bound, plotter.XY{X: float64(n), Y: float64(row.LowerBound)})
			}
		}
		sortXY(xys)
		if len(xys) > 0 {
			args = append(args, fmt.Sprintf("%s (ttl %d)", m, best[int(xys[0].X)].TTL), xys)
		}
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	if len(bound) > 0 {
		sortXY(bound)
		l, err := plotter.NewLine(bound)
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add("ultrapeers − 1", l)
	}
	if len(partial.XYs) > 0 {
		labels, err := plotter.NewLabels(partial)
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		labels.Offset = vg.Point{X: vg.Points(-30), Y: vg.Points(6)}
		p.Add(labels)
	}
	return p, nil
}

func recallPlot(r *Report) (*plot.Plot, error) {
	nodes := 0
	for _, row := range r.Rows {
		nodes = max(nodes, row.Nodes)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Recall vs TTL (%d nodes)", nodes)
	p.X.Label.Text = "TTL"
	p.Y.Label.Text = "queries with ≥ 1 hit (%)"
	p.Y.Min, p.Y.Max = 0, 105
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.YOffs = vg.Centimeter
	var args []any
	for _, m := range modesOf(r) {
		var xys plotter.XYs
		for _, row := range r.Rows {
			if row.Mode == m && row.Nodes == nodes {
				xys = append(xys, plotter.XY{X: float64(row.TTL), Y: 100 * row.RecallAny})
			}
		}
		sortXY(xys)
		args = append(args, m, xys)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	return p, nil
}

func sortXY(xys plotter.XYs) {
	slices.SortFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
}

var _ io.WriterTo = vgimg.PngCanvas{}
