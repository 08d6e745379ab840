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

// maxFuzzName bounds FuzzKeywords' inputs to the longest path a file
// system gives (PATH_MAX): the fuzzing engine grows inputs far beyond any
// name, and its workers must answer within its deadline (a CI run once
// failed with "context deadline exceeded", cause not proven).
const maxFuzzName = 4096

// FuzzKeywords: a file is found by its own name. Every word QueryWords
// needs from a text is among the Keywords of that text, and neither
// function returns an empty or repeated word.
func FuzzKeywords(f *testing.F) {
	for _, s := range []string{"Maps/Zürich_2024.PDF", "WaterMap HTMLFile plan2026", "l'été", "日本語のファイル", "データ 人々", "ΑΘΗΝΑ-map 🗺️", "ＡＢＣ Straße æøł"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxFuzzName {
			return
		}
		kw, qw := Keywords(s), QueryWords(s)
		var sets [2]map[string]bool
		for i, words := range [][]string{kw, qw} {
			sets[i] = make(map[string]bool, len(words))
			for _, w := range words {
				if w == "" || sets[i][w] {
					t.Fatalf("%q: empty or repeated word in %q", s, words)
				}
				sets[i][w] = true
			}
		}
		for _, w := range qw {
			if !sets[0][w] {
				t.Fatalf("%q: query word %q not among its keywords %q", s, w, kw)
			}
		}
	})
}
