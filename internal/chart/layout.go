package chart

import (
	"image/color"
	"math"
)

// pt is a position on the page, in points from the top left corner.
type pt struct{ x, y float64 }

// canvas is what a chart is drawn on: the SVG writer and the PNG
// rasteriser.
type canvas interface {
	// stroke draws the polyline pts, solid or dashed, width points wide.
	stroke(pts []pt, width float64, c color.RGBA, dashed bool)
	// fill fills the polygon pts.
	fill(pts []pt, c color.RGBA)
	// text writes s at size points with its baseline anchored at p: by its
	// start (align -1), middle (0) or end (1); up turns it to read
	// bottom to top, anchored the same way along the turned baseline.
	text(p pt, s string, size float64, align int, up bool)
	// textWidth is how long s is at size points.
	textWidth(s string, size float64) float64
}

// Sizes, in points.
const (
	pad        = 8.0  // around each panel
	titleSize  = 12.0 // panel titles and axis labels
	tickSize   = 10.0 // tick labels and the legend
	labelSize  = 9.0  // labels at points
	tickLength = 4.0
	markerSize = 3.0 // a marker's "radius"
	lineWidth  = 1.0
)

var black = color.RGBA{A: 255}

// palette colours the series in order.
var palette = []color.RGBA{
	{R: 0xd6, G: 0x27, B: 0x28, A: 255}, {R: 0x1f, G: 0x77, B: 0xb4, A: 255},
	{R: 0x2c, G: 0xa0, B: 0x2c, A: 255}, {R: 0x94, G: 0x67, B: 0xbd, A: 255},
	{R: 0xff, G: 0x7f, B: 0x0e, A: 255}, {R: 0x8c, G: 0x56, B: 0x4b, A: 255},
}

// draw lays c out on cv.
func (c Chart) draw(cv canvas) error {
	if len(c.Panels) == 0 || c.Width <= 0 || c.Height <= 0 {
		return ErrEmpty
	}
	cv.fill([]pt{{0, 0}, {c.Width, 0}, {c.Width, c.Height}, {0, c.Height}}, color.RGBA{255, 255, 255, 255})
	w := c.Width / float64(len(c.Panels))
	for i, p := range c.Panels {
		if err := p.draw(cv, float64(i)*w+pad, pad, w-2*pad, c.Height-2*pad); err != nil {
			return err
		}
	}
	return nil
}

// draw lays p out in the box at (left, top), w×h points.
func (p Panel) draw(cv canvas, left, top, w, h float64) error {
	var xs, ys []float64
	for _, s := range p.Series {
		for _, q := range s.Points {
			xs, ys = append(xs, q.X), append(ys, q.Y)
		}
	}
	x, err := newScale(p.X, xs)
	if err != nil {
		return err
	}
	y, err := newScale(p.Y, ys)
	if err != nil {
		return err
	}
	cv.text(pt{left + w/2, top + titleSize}, p.Title, titleSize, 0, false)
	yTicks := 0.0
	for _, t := range y.ticks {
		yTicks = max(yTicks, cv.textWidth(y.tickText(t), tickSize))
	}
	x.low, x.high = left+titleSize+yTicks+2*tickLength, left+w-tickSize
	y.low, y.high = top+h-titleSize-tickSize-2*tickLength, top+2*titleSize
	cv.text(pt{(x.low + x.high) / 2, top + h}, p.X.Label, titleSize, 0, false)
	cv.text(pt{left + titleSize, (y.low + y.high) / 2}, p.Y.Label, titleSize, 0, true)
	axes(cv, x, y)
	for i, s := range p.Series {
		col := palette[i%len(palette)]
		var pts []pt
		for _, q := range s.Points {
			if drawable(q, x, y) {
				pts = append(pts, pt{x.at(q.X, false), y.at(q.Y, false)})
			}
		}
		cv.stroke(pts, lineWidth, col, s.Dashed)
		for _, q := range pts {
			if !s.Dashed {
				marker(cv, i, q, col)
			}
		}
	}
	for _, l := range p.Labels {
		if !drawable(l.At, x, y) {
			continue
		}
		cv.text(pt{x.at(l.At.X, false), y.at(l.At.Y, false) - 2*markerSize}, l.Text, labelSize, 0, false)
	}
	p.legend(cv, x, y)
	return nil
}

// drawable reports whether q has a place on the axes x and y: a log axis
// has none for values ≤ 0.
func drawable(q Point, x, y scale) bool {
	return (!x.log || q.X > 0) && (!y.log || q.Y > 0)
}

// axes draws the bottom and left axes with their ticks and tick labels.
func axes(cv canvas, x, y scale) {
	cv.stroke([]pt{{x.low, y.low}, {x.high, y.low}}, 0.5, black, false)
	cv.stroke([]pt{{x.low, y.low}, {x.low, y.high}}, 0.5, black, false)
	for _, t := range x.ticks {
		at := x.at(t, true)
		cv.stroke([]pt{{at, y.low}, {at, y.low + tickLength}}, 0.5, black, false)
		cv.text(pt{at, y.low + tickLength + tickSize}, x.tickText(t), tickSize, 0, false)
	}
	for _, t := range x.minorTicks {
		at := x.at(t, true)
		cv.stroke([]pt{{at, y.low}, {at, y.low + tickLength/2}}, 0.5, black, false)
	}
	for _, t := range y.ticks {
		at := y.at(t, true)
		cv.stroke([]pt{{x.low, at}, {x.low - tickLength, at}}, 0.5, black, false)
		cv.text(pt{x.low - tickLength - 2, at + tickSize/3}, y.tickText(t), tickSize, 1, false)
	}
	for _, t := range y.minorTicks {
		at := y.at(t, true)
		cv.stroke([]pt{{x.low, at}, {x.low - tickLength/2, at}}, 0.5, black, false)
	}
}

// legend lists the series in the corner of the plot area p asks for.
func (p Panel) legend(cv canvas, x, y scale) {
	const sample, row = 20.0, tickSize + 3
	wide := 0.0
	for _, s := range p.Series {
		wide = max(wide, cv.textWidth(s.Name, tickSize))
	}
	left := x.high - sample - 4 - wide - pad
	if p.LegendLeft {
		left = x.low + pad
	}
	top := y.low - pad - row*float64(len(p.Series))
	if p.LegendTop {
		top = y.high + pad
	}
	for i, s := range p.Series {
		col := palette[i%len(palette)]
		mid := top + row*float64(i) + row/2
		cv.stroke([]pt{{left, mid}, {left + sample, mid}}, lineWidth, col, s.Dashed)
		if !s.Dashed {
			marker(cv, i, pt{left + sample/2, mid}, col)
		}
		cv.text(pt{left + sample + 4, mid + tickSize/3}, s.Name, tickSize, -1, false)
	}
}

// marker draws the marker of the i-th series at c: a circle, a square, a
// triangle or a diamond.
func marker(cv canvas, i int, c pt, col color.RGBA) {
	sides, turn := []int{12, 4, 3, 4}[i%4], []float64{0, math.Pi / 4, -math.Pi / 2, 0}[i%4]
	r := markerSize
	if sides == 4 && turn != 0 {
		r *= math.Sqrt2 * 0.9
	}
	pts := make([]pt, sides)
	for k := range pts {
		a := turn + 2*math.Pi*float64(k)/float64(sides)
		pts[k] = pt{c.x + r*math.Cos(a), c.y + r*math.Sin(a)}
	}
	cv.fill(pts, col)
}
