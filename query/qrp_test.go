package query

import (
	"bytes"
	"errors"
	"testing"

	"github.com/servent-p2p/servent/storage"
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
	h := storage.Hash{1, 2, 3}
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
		{"other urn", Query{Hash: storage.Hash{9}}, false},
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

func TestTableDiffApply(t *testing.T) {
	v1 := NewTable(DefaultTableBits)
	v1.AddFile("a/report 2024.pdf", storage.Hash{1})
	v2 := v1.Clone()
	v2.AddFile("b/holiday.jpg", storage.Hash{2})

	reset, err := Diff(nil, v1)
	if err != nil {
		t.Fatal(err)
	}
	var recv Table
	if err := recv.Apply(reset); err != nil {
		t.Fatalf("apply reset: %v", err)
	}
	if !recv.Equal(v1) {
		t.Fatal("reset did not reproduce v1")
	}
	patch, err := Diff(v1, v2)
	if err != nil {
		t.Fatal(err)
	}
	if patch[0] != patchXOR || len(patch) > 100 {
		t.Errorf("xor patch kind %d, %d bytes", patch[0], len(patch))
	}
	if err := recv.Apply(patch); err != nil {
		t.Fatalf("apply xor: %v", err)
	}
	if !recv.Equal(v2) {
		t.Fatal("patch did not reproduce v2")
	}
	// A resize is a reset.
	small := NewTable(MinTableBits)
	small.Add("x")
	p, _ := Diff(v2, small)
	if err := recv.Apply(p); err != nil || !recv.Equal(small) {
		t.Fatalf("resize: %v", err)
	}
	// Failures leave the table unchanged.
	bad := [][]byte{nil, {patchXOR, 16}, {9, 16}, {patchReset, 30}, append(bytes.Clone(reset[:len(reset)-1]), reset[len(reset)-1]^1), append(bytes.Clone(reset), 0)}
	for i, b := range bad {
		before := recv.Clone()
		if err := recv.Apply(b); err == nil {
			t.Errorf("bad patch %d accepted", i)
		}
		if !recv.Equal(before) {
			t.Errorf("bad patch %d changed the table", i)
		}
	}
	if err := v1.Merge(small); !errors.Is(err, ErrBadPatch) {
		t.Errorf("merge sizes: %v", err)
	}
}

func FuzzApply(f *testing.F) {
	a := NewTable(MinTableBits)
	a.Add("seed")
	reset, _ := Diff(nil, a)
	b := a.Clone()
	b.Add("other")
	xor, _ := Diff(a, b)
	f.Add(reset)
	f.Add(xor)
	f.Add([]byte{patchReset, 8})
	f.Fuzz(func(t *testing.T, patch []byte) {
		tb := a.Clone()
		if err := tb.Apply(patch); err != nil {
			return
		}
		// An applied patch is reproducible: Diff(before, after) applied again gives after.
		p, err := Diff(a, tb)
		if err != nil {
			t.Fatal(err)
		}
		again := a.Clone()
		if err := again.Apply(p); err != nil || !again.Equal(tb) {
			t.Fatalf("re-diff: %v", err)
		}
	})
}
