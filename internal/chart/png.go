package chart

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// pngCanvas rasterises a chart, anti-aliased, with text in the 7×13
// bitmap face (ASCII only: other characters become ASCII look-alikes or
// the replacement character).
type pngCanvas struct {
	img   *image.RGBA
	scale float64 // pixels per point
	z     *vector.Rasterizer
}

var _ canvas = (*pngCanvas)(nil)

func newPNG(w, h, scale float64) *pngCanvas {
	r := image.Rect(0, 0, int(math.Ceil(w*scale)), int(math.Ceil(h*scale)))
	return &pngCanvas{img: image.NewRGBA(r), scale: scale, z: vector.NewRasterizer(0, 0)}
}

var face = basicfont.Face7x13

// dash is the dash pattern in points: on, off.
var dash = [2]float64{4, 3}

func (p *pngCanvas) stroke(pts []pt, width float64, c color.RGBA, dashed bool) {
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		if !dashed {
			p.segment(a, b, width, c)
			continue
		}
		length := math.Hypot(b.x-a.x, b.y-a.y)
		for d := 0.0; d < length; d += dash[0] + dash[1] {
			e := min(d+dash[0], length)
			p.segment(along(a, b, d/length), along(a, b, e/length), width, c)
		}
	}
}

// along is the point a fraction f of the way from a to b.
func along(a, b pt, f float64) pt { return pt{a.x + f*(b.x-a.x), a.y + f*(b.y-a.y)} }

// segment fills the rectangle width wide around a–b, extended by half the
// width at both ends so that consecutive segments join.
func (p *pngCanvas) segment(a, b pt, width float64, c color.RGBA) {
	l := math.Hypot(b.x-a.x, b.y-a.y)
	if l == 0 {
		return
	}
	w := max(width, 1/p.scale) / 2 // at least a pixel wide
	ux, uy := (b.x-a.x)/l*w, (b.y-a.y)/l*w
	p.fill([]pt{{a.x - ux - uy, a.y - uy + ux}, {b.x + ux - uy, b.y + uy + ux},
		{b.x + ux + uy, b.y + uy - ux}, {a.x - ux + uy, a.y - uy - ux}}, c)
}

// fill rasterises the polygon within its bounding box only.
func (p *pngCanvas) fill(pts []pt, c color.RGBA) {
	if len(pts) < 3 {
		return
	}
	lo, hi := pts[0], pts[0]
	for _, q := range pts {
		lo, hi = pt{min(lo.x, q.x), min(lo.y, q.y)}, pt{max(hi.x, q.x), max(hi.y, q.y)}
	}
	box := image.Rect(int(math.Floor(lo.x*p.scale)), int(math.Floor(lo.y*p.scale)),
		int(math.Ceil(hi.x*p.scale)), int(math.Ceil(hi.y*p.scale))).Intersect(p.img.Bounds())
	if box.Empty() {
		return
	}
	at := func(q pt) (float32, float32) {
		return float32(q.x*p.scale) - float32(box.Min.X), float32(q.y*p.scale) - float32(box.Min.Y)
	}
	p.z.Reset(box.Dx(), box.Dy())
	p.z.MoveTo(at(pts[0]))
	for _, q := range pts[1:] {
		p.z.LineTo(at(q))
	}
	p.z.ClosePath()
	p.z.Draw(p.img, box, image.NewUniform(c), image.Point{})
}

func (p *pngCanvas) text(at pt, s string, _ float64, align int, up bool) {
	s = ascii.Replace(s)
	w := font.MeasureString(face, s).Ceil()
	line := image.NewRGBA(image.Rect(0, 0, w, face.Height))
	(&font.Drawer{Dst: line, Src: image.NewUniform(black), Face: face, Dot: fixed.P(0, face.Ascent)}).DrawString(s)
	x, y := int(math.Round(at.x*p.scale)), int(math.Round(at.y*p.scale))
	shift := (align + 1) * w / 2 // how far the start is before the anchor
	if !up {
		r := image.Rect(x-shift, y-face.Ascent, x-shift+w, y+face.Descent)
		draw.Draw(p.img, r, line, image.Point{}, draw.Over)
		return
	}
	turned := image.NewRGBA(image.Rect(0, 0, face.Height, w))
	for i := range w {
		for j := range face.Height {
			turned.SetRGBA(j, w-1-i, line.RGBAAt(i, j))
		}
	}
	r := image.Rect(x-face.Ascent, y+shift-w, x+face.Descent, y+shift)
	draw.Draw(p.img, r, turned, image.Point{}, draw.Over)
}

func (p *pngCanvas) textWidth(s string, _ float64) float64 {
	return float64(font.MeasureString(face, ascii.Replace(s)).Ceil()) / p.scale
}

// ascii spells in ASCII what the charts write otherwise.
var ascii = strings.NewReplacer("≥", ">=", "≤", "<=", "−", "-", "–", "-", "×", "x")

func (p *pngCanvas) write(w io.Writer) error { return png.Encode(w, p.img) }
