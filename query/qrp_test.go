package query

import (
	"testing"

	"github.com/servent-p2p/servent/content"
)

// Vectors published with the QRP proposal and carried by LimeWire's
// HashFunctionTest and gtk-gnutella's qrp.c self-test.
func TestQRPHashVectors(t *testing.T) {
	cases := []struct {
		word string
		bits int
		want uint32
	}{
		{"", 13, 0}, {"eb", 13, 6791}, {"ebc", 13, 7082}, {"ebck", 13, 6698},
		{"ebckl", 13, 3179}, {"ebcklm", 13, 3235}, {"ebcklme", 13, 6438},
		{"ebcklmen", 13, 1062}, {"ebcklmenq", 13, 3527},
		{"", 16, 0}, {"n", 16, 65003}, {"nd", 16, 54193}, {"ndf", 16, 4953},
		{"ndfl", 16, 58201}, {"ndfla", 16, 34830}, {"ndflal", 16, 36910},
		{"ndflale", 16, 34586}, {"ndflalem", 16, 37658}, {"ndflaleme", 16, 45559},
		{"NDFLalem", 16, 37658},
		{"ol2j34lj", 10, 318}, {"asdfas23", 10, 503}, {"9um3o34fd", 10, 758},
		{"a234d", 10, 281}, {"a3f", 10, 767}, {"3nja9", 10, 581},
		{"2459345938032343", 10, 146}, {"7777a88a8a8a8", 10, 342},
		{"asdfjklkj3k", 10, 861}, {"adfk32l", 10, 1011}, {"zzzzzzzzzzz", 10, 944},
		{"3NJA9", 10, 581}, {"3nJa9", 10, 581},
		// Non-ASCII: gtk-gnutella's src/core/qrp.c test_hash (the low byte
		// of each UTF-16 code unit, as LimeWire's charAt(i) & 0xFF).
		{"\u30a2\u30cb\u30e1", 10, 46}, // アニメ
		{"\u30e9", 10, 0},              // ラ
		{"\u58f0\u512a", 10, 731},      // 声優
		{"\U00010400", 10, 316},        // DESERET CAPITAL LETTER LONG I: D801 DC00
		{"\U00010428", 10, 658},        // DESERET SMALL LETTER LONG I: D801 DC28
		{"\u0001\u0028", 10, 658},      // same low bytes
		{"\uff01\u9428", 10, 658},      // same low bytes
		{"\u1001\u2000", 10, 316},      // same low bytes as U+10400
	}
	for _, c := range cases {
		if got := QRPHash(c.word, c.bits); got != c.want {
			t.Errorf("QRPHash(%q, %d) = %d, want %d", c.word, c.bits, got, c.want)
		}
	}
}

func TestTableMatch(t *testing.T) {
	h := content.Hash{1, 2, 3}
	tb := NewTable(DefaultTableBits)
	tb.AddFile("Music/Holst - The Planets.flac", h)
	cases := []struct {
		name string
		q    Query
		want bool
	}{
		{"all words", Query{Criteria: "planets HOLST"}, true},
		{"one missing", Query{Criteria: "planets mozart"}, false},
		{"urn only", Query{Hash: h}, true},
		{"other urn", Query{Hash: content.Hash{9}}, false},
		{"no words", Query{Criteria: "!!"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := tb.MatchQuery(&c.q, c.q.Words()); got != c.want {
				t.Errorf("MatchQuery = %v, want %v", got, c.want)
			}
		})
	}
	// music holst the planets flac, their prefixes (mus musi hol hols pla
	// plan plane planet fla), urn
	if tb.Count() != 15 {
		t.Errorf("Count = %d, want 15", tb.Count())
	}
	for _, w := range []string{"pla", "plane", "holst"} {
		if !tb.Contains(w) {
			t.Errorf("table lacks %q", w)
		}
	}
	var zero Table
	if zero.Contains("x") {
		t.Error("zero table contains a word")
	}
}
