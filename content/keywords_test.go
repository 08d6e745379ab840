package content

import (
	"slices"
	"testing"
)

func TestKeywords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Maps/Zürich_2024.PDF", []string{"maps", "zurich", "2024", "pdf"}},
		{"a/a/A b", []string{"a", "b"}},
		{"  --  ", nil},
		{"ΑΘΗΝΑ-map", []string{"αθηνα", "map"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Keywords(tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("Keywords(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzKeywords: a file is found by its own name. Every word QueryWords
// needs from a text is among the Keywords of that text, and neither
// function returns an empty or repeated word.
func FuzzKeywords(f *testing.F) {
	for _, s := range []string{"Maps/Zürich_2024.PDF", "WaterMap HTMLFile plan2026", "l'été", "日本語のファイル", "データ 人々", "ΑΘΗΝΑ-map 🗺️", "ＡＢＣ Straße æøł"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kw := Keywords(s)
		for _, words := range [][]string{kw, QueryWords(s)} {
			seen := map[string]bool{}
			for _, w := range words {
				if w == "" || seen[w] {
					t.Fatalf("%q: empty or repeated word in %q", s, words)
				}
				seen[w] = true
			}
		}
		for _, w := range QueryWords(s) {
			if !slices.Contains(kw, w) {
				t.Fatalf("%q: query word %q not among its keywords %q", s, w, kw)
			}
		}
	})
}
