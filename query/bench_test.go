package query

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/role"
)

func BenchmarkHandleForward(b *testing.B) {
	cfg := DefaultConfig("me")
	cfg.Mode = Flood
	cfg.QueryRate = 0
	r := NewRouter(cfg, nil)
	r.SetTopology(role.Ultrapeer, []PeerID{"a", "b", "c", "d"}, nil, nil)
	q := &Query{Criteria: "x"}
	now := time.Unix(1, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Handle(now, "a", &Descriptor{Header: Header{GUID: GUID{byte(i), byte(i >> 8), byte(i >> 16)}, Type: TypeQuery, TTL: 3}, Query: q})
	}
}

func BenchmarkUnmarshalHit(b *testing.B) {
	in, _ := goldenHit(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalHit(b *testing.B) {
	_, d := goldenHit(b)
	buf := make([]byte, 0, MaxDatagram)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.AppendMarshal(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQRPHash(b *testing.B) {
	for b.Loop() {
		QRPHash("ndflaleme", DefaultTableBits)
	}
}

// BenchmarkTableFill builds the QRP table of an ultrapeer with 30 leaves of
// 300 files each (names of 3-5 words drawn Zipf-like from a 20,000-word
// vocabulary): whole keywords only in 2^16 slots (the baseline: Table.Add,
// the former default size), and with prefixes (Table.AddKeyword, what
// tables carry) in 2^16 slots and in DefaultTableBits slots. It reports the
// fill ratios (each the false-positive rate of a word absent from the
// table).
func BenchmarkTableFill(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 20_000)
	for i := range vocab {
		w := make([]byte, 4+rng.IntN(7))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		vocab[i] = string(w)
	}
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(vocab)-1))
	var names []string
	for range 30 * 300 {
		var sb strings.Builder
		for i := range 3 + rng.IntN(3) {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(vocab[zipf.Uint64()])
		}
		sb.WriteString(".pdf")
		names = append(names, sb.String())
	}
	var whole, prefixed16, prefixed *Table
	for b.Loop() {
		whole, prefixed16, prefixed = NewTable(16), NewTable(16), NewTable(DefaultTableBits)
		for _, n := range names {
			for _, w := range content.Keywords(n) {
				whole.Add(w)
				prefixed16.AddKeyword(w)
				prefixed.AddKeyword(w)
			}
		}
	}
	fill := func(t *Table) float64 { return float64(t.Count()) / float64(int(1)<<t.Bits()) }
	b.ReportMetric(fill(whole), "fill-whole-16")
	b.ReportMetric(fill(prefixed16), "fill-prefix-16")
	b.ReportMetric(fill(prefixed), "fill-prefix-default")
}

// BenchmarkAppendUpdates measures one QRP patch of a full-size table after
// one keyword changed, as an ultrapeer sends it to each neighbour.
func BenchmarkAppendUpdates(b *testing.B) {
	old := NewTable(DefaultTableBits)
	for i := range 3000 {
		old.AddKeyword(fmt.Sprintf("word%d", i))
	}
	cur := NewTable(DefaultTableBits)
	for i := range 3001 {
		cur.AddKeyword(fmt.Sprintf("word%d", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendUpdates(nil, GUID{1}, old, cur); err != nil {
			b.Fatal(err)
		}
	}
}
