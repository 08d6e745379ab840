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
