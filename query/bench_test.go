package query

import (
	"testing"
	"time"
)

func BenchmarkHandleForward(b *testing.B) {
	cfg := DefaultConfig("me")
	cfg.Mode = Flood
	cfg.QueryRate = 0
	r := NewRouter(cfg, nil)
	r.SetTopology(Ultrapeer, []PeerID{"a", "b", "c", "d"}, nil, nil)
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
