package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/png"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestScaleTicks(t *testing.T) {
	for _, c := range []struct {
		name string
		axis Axis
		vs   []float64
		want []string
	}{
		{"log", Axis{Log: true}, []float64{100, 3000, 0, -5}, []string{"100", "1000", "10000"}},
		{"log below one", Axis{Log: true}, []float64{0.5, 20}, []string{"0.1", "1", "10", "100"}},
		{"linear bounded", Axis{Min: 0, Max: 105}, []float64{3, 50}, []string{"0", "20", "40", "60", "80", "100"}},
		{"linear", Axis{}, []float64{1, 7}, []string{"1", "2", "3", "4", "5", "6", "7"}},
		{"fractions", Axis{}, []float64{0.1, 0.4}, []string{"0.1", "0.2", "0.3", "0.4"}},
		{"one value", Axis{}, []float64{5}, []string{"4.0", "4.5", "5.0", "5.5", "6.0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := newScale(c.axis, c.vs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tk := range s.ticks {
				got = append(got, s.tickText(tk))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("ticks %q, want %q", got, c.want)
			}
			s.low, s.high = 10, 110
			if lo, hi := s.at(s.ticks[0], true), s.at(s.ticks[len(s.ticks)-1], true); lo < 10 || hi > 110 || lo >= hi {
				t.Errorf("ticks placed at %v..%v, outside 10..110", lo, hi)
			}
		})
	}
	if _, err := newScale(Axis{Log: true}, []float64{0, -1}); !errors.Is(err, ErrEmpty) {
		t.Errorf("log axis without positive values: %v", err)
	}
}

func sample() Chart {
	return Chart{Width: 600, Height: 300, Panels: []Panel{
		{Title: "Cost <per> query & more", X: Axis{Label: "nodes", Log: true}, Y: Axis{Label: "messages", Log: true},
			Series: []Series{
				{Name: "flood", Points: []Point{{100, 300}, {1000, 2300}, {3000, 0}}}, // no place for 0 on a log axis
				{Name: "bound − 1", Points: []Point{{100, 4}, {1000, 33}}, Dashed: true},
			},
			Labels: []Label{{At: Point{1000, 2300}, Text: "90%"}, {At: Point{3000, 0}, Text: "0%"}}, LegendTop: true, LegendLeft: true},
		{Title: "Recall", X: Axis{Label: "TTL"}, Y: Axis{Label: "≥ 1 hit (%)", Min: 0, Max: 105},
			Series: []Series{{Name: "smart", Points: []Point{{1, 20}, {2, 90}, {3, 100}}}}},
	}}
}

func TestSVG(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("NaN")) || bytes.Contains(b.Bytes(), []byte("Inf")) {
		t.Fatalf("a point or label off the axes was drawn:\n%s", b.String())
	}
	var texts []string
	polylines, polygons := 0, 0
	d := xml.NewDecoder(&b)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "text":
				var s string
				if err := d.DecodeElement(&s, &se); err != nil {
					t.Fatal(err)
				}
				texts = append(texts, s)
			case "polyline":
				polylines++
			case "polygon":
				polygons++
			}
		}
	}
	for _, want := range []string{"Cost <per> query & more", "Recall", "nodes", "≥ 1 hit (%)", "flood", "bound − 1", "smart", "90%", "1000", "100"} {
		if !slices.Contains(texts, want) {
			t.Errorf("no text %q in %q", want, texts)
		}
	}
	// Each series is a line on the plot and one in the legend; markers are
	// polygons: 2 + 3 points, twice 1 in the legend, and the background.
	if polylines < 6 || polygons != 1+2+3+2 {
		t.Errorf("%d polylines, %d polygons", polylines, polygons)
	}
}

func TestPNG(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WritePNG(&b, 2); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds(); got != image.Rect(0, 0, 1200, 600) {
		t.Fatalf("bounds %v", got)
	}
	counts := map[[3]uint32]int{}
	for y := range 600 {
		for x := range 1200 {
			r, g, b, _ := img.At(x, y).RGBA()
			counts[[3]uint32{r >> 8, g >> 8, b >> 8}]++
		}
	}
	for i, c := range palette[:2] {
		if n := counts[[3]uint32{uint32(c.R), uint32(c.G), uint32(c.B)}]; n < 100 {
			t.Errorf("series %d: %d pixels of its colour", i, n)
		}
	}
	if counts[[3]uint32{}] < 500 { // text and axes
		t.Errorf("%d black pixels", counts[[3]uint32{}])
	}
}

func TestEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := (Chart{}).WriteSVG(&b); !errors.Is(err, ErrEmpty) {
		t.Errorf("no panels: %v", err)
	}
	c := Chart{Width: 100, Height: 100, Panels: []Panel{{Title: "none"}}}
	if err := c.WritePNG(&b, 1); !errors.Is(err, ErrEmpty) {
		t.Errorf("no points: %v", err)
	}
	if strings.Contains(b.String(), "<svg") {
		t.Error("wrote a document for an empty chart")
	}
}
