package chart

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// ErrEmpty is returned for a chart with nothing to draw.
var ErrEmpty = errors.New("chart: nothing to draw")

// Chart is panels drawn side by side on one Width×Height page (in points,
// 1/72 inch).
type Chart struct {
	Width, Height float64
	Panels        []Panel
}

// Panel is one plot: a title, two axes, the series drawn as lines through
// their points, and text labels at points.
type Panel struct {
	Title  string
	X, Y   Axis
	Series []Series
	Labels []Label
	// LegendLeft and LegendTop place the legend in a corner of the plot area.
	LegendLeft, LegendTop bool
}

// Axis is a panel's axis. Min and Max bound it when Max > Min; otherwise
// the data do (widened to whole decades on a log axis).
type Axis struct {
	Label    string
	Log      bool
	Min, Max float64
}

// Series is a line through Points in the order given, with a marker at
// each point unless Dashed (a dashed line has none).
type Series struct {
	Name   string
	Points []Point
	Dashed bool
}

// Point is a data point.
type Point struct{ X, Y float64 }

// Label is text drawn just above a data point.
type Label struct {
	At   Point
	Text string
}

// WriteSVG writes c as an SVG document.
func (c Chart) WriteSVG(w io.Writer) error {
	s := newSVG(c.Width, c.Height)
	if err := c.draw(s); err != nil {
		return err
	}
	return s.write(w)
}

// WritePNG writes c as a PNG image of scale pixels per point.
func (c Chart) WritePNG(w io.Writer, scale float64) error {
	p := newPNG(c.Width, c.Height, scale)
	if err := c.draw(p); err != nil {
		return err
	}
	return p.write(w)
}

// scale maps data values of an axis onto [lo, hi] in page coordinates.
type scale struct {
	log        bool
	min, max   float64 // data range, in log10 on a log axis
	low, high  float64 // page range
	ticks      []float64
	minorTicks []float64
	decimals   int // of the tick labels on a linear axis
}

// newScale fits a to the values vs (positive ones only on a log axis).
func newScale(a Axis, vs []float64) (scale, error) {
	s := scale{log: a.Log, min: math.Inf(1), max: math.Inf(-1)}
	for _, v := range vs {
		if a.Log && v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		s.min, s.max = min(s.min, v), max(s.max, v)
	}
	if a.Max > a.Min {
		s.min, s.max = a.Min, a.Max
	}
	if s.min > s.max {
		return s, fmt.Errorf("%w: no values on axis %q", ErrEmpty, a.Label)
	}
	if s.log {
		s.min, s.max = math.Floor(math.Log10(s.min)), math.Ceil(math.Log10(s.max))
		if s.max == s.min {
			s.max++
		}
		for d := s.min; d <= s.max; d++ {
			s.ticks = append(s.ticks, d)
			for k := 2.0; k < 10 && d < s.max; k++ {
				s.minorTicks = append(s.minorTicks, d+math.Log10(k))
			}
		}
		return s, nil
	}
	if s.max == s.min {
		s.min, s.max = s.min-1, s.max+1
	}
	step := niceStep((s.max - s.min) / 6)
	s.decimals = max(0, -int(math.Floor(math.Log10(step))))
	for k := math.Ceil(s.min / step); k*step <= s.max+step/1e6; k++ {
		s.ticks = append(s.ticks, k*step)
	}
	return s, nil
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// at maps v (a data value, or a tick in the scale's own units when tick)
// onto the page.
func (s scale) at(v float64, tick bool) float64 {
	if s.log && !tick {
		v = math.Log10(v)
	}
	return s.low + (v-s.min)/(s.max-s.min)*(s.high-s.low)
}

// tickText is the label of tick t.
func (s scale) tickText(t float64) string {
	if s.log {
		return strconv.FormatFloat(math.Pow10(int(t)), 'f', -1, 64)
	}
	return strconv.FormatFloat(t, 'f', s.decimals, 64)
}
