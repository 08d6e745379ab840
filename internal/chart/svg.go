package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
)

// svg collects the elements of an SVG document.
type svg struct {
	w, h float64
	body bytes.Buffer
}

var _ canvas = (*svg)(nil)

func newSVG(w, h float64) *svg { return &svg{w: w, h: h} }

// font is the family the text asks for: whatever sans-serif face the
// viewer has.
const fontFamily = "Liberation Sans, Arial, Helvetica, sans-serif"

func (s *svg) stroke(pts []pt, width float64, c color.RGBA, dashed bool) {
	if len(pts) < 2 {
		return
	}
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="4,3"`
	}
	fmt.Fprintf(&s.body, `<polyline points="%s" fill="none" stroke="%s" stroke-width="%s"%s/>`+"\n",
		points(pts), hex(c), num(width), dash)
}

func (s *svg) fill(pts []pt, c color.RGBA) {
	fmt.Fprintf(&s.body, `<polygon points="%s" fill="%s"/>`+"\n", points(pts), hex(c))
}

func (s *svg) text(p pt, text string, size float64, align int, up bool) {
	anchor := [...]string{"start", "middle", "end"}[align+1]
	turn := ""
	if up {
		turn = fmt.Sprintf(` transform="rotate(-90 %s %s)"`, num(p.x), num(p.y))
	}
	fmt.Fprintf(&s.body, `<text x="%s" y="%s" font-size="%s" text-anchor="%s"%s>`,
		num(p.x), num(p.y), num(size), anchor, turn)
	escape.WriteString(&s.body, text)
	s.body.WriteString("</text>\n")
}

// textWidth estimates: a sans-serif letter is about half as wide as high.
func (s *svg) textWidth(text string, size float64) float64 {
	return 0.52 * size * float64(len([]rune(text)))
}

// write writes the document: the page in points, white, with the elements.
func (s *svg) write(w io.Writer) error {
	_, err := fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%spt" height="%spt" viewBox="0 0 %s %s" font-family="%s">
%s</svg>
`, num(s.w), num(s.h), num(s.w), num(s.h), fontFamily, s.body.Bytes())
	return err
}

// escape makes text safe inside an element.
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func points(pts []pt) string {
	var b strings.Builder
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(p.x) + "," + num(p.y))
	}
	return b.String()
}

// num writes v to a hundredth of a point.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
