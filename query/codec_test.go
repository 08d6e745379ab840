package query

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/servent-p2p/servent/content"
)

// unhex turns space-separated hex (comments already stripped) into bytes.
func unhex(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(parts, ""), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hx(s string) string { return hex.EncodeToString([]byte(s)) }

var testGUID = GUID{1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x00}

func hash11() content.Hash {
	var h content.Hash
	for i := range h {
		h[i] = 0x11
	}
	return h
}

func urn11() string { return hx("urn:blake3:" + strings.Repeat("11", 32)) }

func goldenQuery(t testing.TB) ([]byte, *Descriptor) {
	b := unhex(t,
		"0102030405060708 FF0A0B0C0D0E0F00", // GUID: byte 8 = 0xFF, byte 15 = 0x00
		"80",                                // payload type: Query
		"07",                                // TTL 7
		"00",                                // hops 0
		"5B000000",                          // payload length 91, little-endian
		"0100",                              // flags 0x0100, big-endian
		hx("holst planets"), "00",           // criteria, NUL-terminated (13+1)
		urn11(), // HUGE urn:blake3:<64 hex> (75), ends the payload
	)
	d := &Descriptor{Header: Header{GUID: testGUID, Type: TypeQuery, TTL: 7}, Query: &Query{Flags: 0x0100, Criteria: "holst planets", Hash: hash11()}}
	return b, d
}

func goldenHit(t testing.TB) ([]byte, *Descriptor) {
	b := unhex(t,
		"0102030405060708 FF0A0B0C0D0E0F00", // GUID of the query
		"81",                                // payload type: QueryHit
		"03", "00",                          // TTL 3, hops 0
		"89000000",        // payload length 137
		"01",              // number of hits
		"CA18",            // port 6346, little-endian
		"C0A80102",        // IPv4 192.168.1.2, network order
		"64000000",        // speed 100, little-endian
		"05000000",        // result: file index 5
		"E8030000",        // file size 1000
		hx("a.txt"), "00", // name, NUL-terminated
		urn11(), "00", // extension block: HUGE urn, NUL-terminated
		hx("SRVT"), // QHD vendor code
		"02",       // open data size
		"20", "20", // flags: GGEP present; valid mask: GGEP
		"C3",                         // GGEP magic
		"02", hx("QP"), "42", "CA18", // ID len 2, "QP", length 2 (0x40|2), port 6346 LE
		"82", hx("NN"), "42", hx("n1"), // last ext (0x80), "NN", length 2, "n1"
		"A0A1A2A3A4A5A6A7A8A9AAABACADAEAF", // servent ID
	)
	sid := GUID{0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF}
	d := &Descriptor{Header: Header{GUID: testGUID, Type: TypeQueryHit, TTL: 3}, Hit: &QueryHit{
		Port: 6346, Addr: netip.AddrFrom4([4]byte{192, 168, 1, 2}), Speed: 100,
		Results:  []FileResult{{Index: 5, Size: 1000, Name: "a.txt", Hash: hash11()}},
		Vendor:   [4]byte{'S', 'R', 'V', 'T'},
		QUICPort: 6346, Node: "n1", ServentID: sid,
	}}
	return b, d
}

func goldenLargeHit(t testing.TB) ([]byte, *Descriptor) {
	b := unhex(t,
		"0102030405060708 FF0A0B0C0D0E0F00", "81", "01", "00", // GUID, QueryHit, TTL 1, hops 0
		"8A000000",                           // payload length 138: 11 + result 104 + QHD 7 + ID 16
		"01", "0000", "00000000", "00000000", // 1 hit, port 0, 0.0.0.0, speed 0
		"07000000", // file index 7
		"FFFFFFFF", // size escape: real size in GGEP LF
		hx("big.iso"), "00",
		urn11(), "1C", // HUGE urn, then the 0x1C separator
		"C3", "C2", hx("LF"), "46", "010101034001", // GGEP: last, COBS, "LF", 6 bytes: COBS of 5 GiB LE minimal (00 00 00 40 01)
		"00",                         // end of extension block
		hx("SRVT"), "02", "00", "20", // QHD: no GGEP
		"00000000000000000000000000000000", // servent ID
	)
	d := &Descriptor{Header: Header{GUID: testGUID, Type: TypeQueryHit, TTL: 1}, Hit: &QueryHit{
		Addr:    netip.AddrFrom4([4]byte{}),
		Results: []FileResult{{Index: 7, Size: 5 << 30, Name: "big.iso", Hash: hash11()}},
		Vendor:  [4]byte{'S', 'R', 'V', 'T'},
	}}
	return b, d
}

// goldenPartialHit is a hit for a file the responder holds in part: GGEP
// "PR" in the result's extension block.
func goldenPartialHit(t testing.TB) ([]byte, *Descriptor) {
	b := unhex(t,
		"0102030405060708 FF0A0B0C0D0E0F00", "81", "01", "00", // GUID, QueryHit, TTL 1, hops 0
		"82000000",                           // payload length 130: 11 + result 96 + QHD 7 + ID 16
		"01", "0000", "00000000", "00000000", // 1 hit, port 0, 0.0.0.0, speed 0
		"03000000", "00005000", // file index 3, size 5 MiB
		hx("p.bin"), "00",
		urn11(), "1C", // HUGE urn, then the 0x1C separator
		"C3", "82", hx("PR"), "40", // GGEP: last, "PR", empty
		"00",                         // end of extension block
		hx("SRVT"), "02", "00", "20", // QHD: no GGEP
		"00000000000000000000000000000000", // servent ID
	)
	d := &Descriptor{Header: Header{GUID: testGUID, Type: TypeQueryHit, TTL: 1}, Hit: &QueryHit{
		Addr:    netip.AddrFrom4([4]byte{}),
		Results: []FileResult{{Index: 3, Size: 5 << 20, Name: "p.bin", Hash: hash11(), Partial: true}},
		Vendor:  [4]byte{'S', 'R', 'V', 'T'},
	}}
	return b, d
}

// TestPartialResultFromOthers: LimeWire writes the ranges a partial
// result holds in "PR1".."PR4" by size class ("PR0": none) and "PRU" when
// they are unverified; such a result (beside "LF" too) is partial, and a
// result without any "PR" key is not.
func TestPartialResultFromOthers(t *testing.T) {
	d, err := Unmarshal(wire(t, "81", "02", "0000", "00000000", "00000000",
		"01000000", "10000000", hx("whole.txt"), "00", urn11(), "00",
		"02000000", "FFFFFFFF", hx("big.iso"), "00", urn11(), "1C", "C3"+"03"+hx("PR1")+"42"+"0010"+"03"+hx("PRU")+"40"+"C2"+hx("LF")+"4501010102C0", "00",
		hitTrailer()))
	if err != nil {
		t.Fatal(err)
	}
	if r := d.Hit.Results; len(r) != 2 || r[0].Partial || !r[1].Partial || r[1].Size != 3<<30 {
		t.Fatalf("results %+v: want the second one partial, of 3 GiB", r)
	}
}

func TestGolden(t *testing.T) {
	for name, g := range map[string]func(testing.TB) ([]byte, *Descriptor){
		"query": goldenQuery, "hit": goldenHit, "large hit": goldenLargeHit, "partial hit": goldenPartialHit,
	} {
		t.Run(name, func(t *testing.T) {
			want, d := g(t)
			got, err := d.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Marshal:\n got %x\nwant %x", got, want)
			}
			if n := d.EncodedLen(); n != len(want) {
				t.Errorf("EncodedLen = %d, want %d", n, len(want))
			}
			back, err := Unmarshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, d) {
				t.Errorf("Unmarshal:\n got %+v\nwant %+v", back, d)
			}
		})
	}
}

func TestURNOnlyQuery(t *testing.T) {
	d := &Descriptor{Header: Header{Type: TypeQuery, TTL: 2}, Query: &Query{Hash: hash11()}}
	b, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(b)
	if err != nil || back.Query.Hash != hash11() || back.Query.Criteria != "" {
		t.Fatalf("got %+v, %v", back, err)
	}
}

func TestQueryHitIPv6Fingerprint(t *testing.T) {
	_, d := goldenHit(t)
	d.Hit.IPv6 = netip.MustParseAddr("fd00::1")
	d.Hit.Fingerprint[0], d.Hit.Fingerprint[31] = 1, 2
	b, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != d.EncodedLen() {
		t.Errorf("EncodedLen %d, encoded %d", d.EncodedLen(), len(b))
	}
	back, err := Unmarshal(b)
	if err != nil || !reflect.DeepEqual(back, d) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, back, d)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	q, _ := goldenQuery(t)
	h, _ := goldenHit(t)
	mod := func(b []byte, i int, v byte) []byte { b = bytes.Clone(b); b[i] = v; return b }
	setLen := func(b []byte) []byte {
		b = bytes.Clone(b)
		n := len(b) - HeaderLen
		b[19], b[20] = byte(n), byte(n>>8)
		return b
	}
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"short header", q[:22], ErrTruncated},
		{"payload short", q[:len(q)-1], ErrTruncated},
		{"payload long", append(bytes.Clone(q), 0), ErrTrailing},
		{"bad type", mod(q, 16, 0x02), ErrBadType},
		{"too long", make([]byte, MaxDescriptor+1), ErrTooLong},
		{"no criteria nul", setLen(unhex(t, "00000000000000000000000000000000 80 01 00 00000000", "0000", hx("abc"))), ErrTruncated},
		{"empty query", setLen(unhex(t, "00000000000000000000000000000000 80 01 00 00000000", "0000", "00")), ErrEmptyQuery},
		{"bad utf8", setLen(unhex(t, "00000000000000000000000000000000 80 01 00 00000000", "0000", "FF00")), ErrBadString},
		{"bad urn hex", mod(q, len(q)-1, 'z'), ErrBadURN},
		{"zero hits", setLen(unhex(t, "00000000000000000000000000000000 81 01 00 00000000", "00 0000 00000000 00000000", hx("SRVT"), "02 00 20", "00000000000000000000000000000000")), ErrBadCount},
		{"zero hits, unknown count", mod(h, HeaderLen, 0), ErrTruncated},
		{"two hits announced", mod(h, HeaderLen, 2), ErrTruncated},
		{"hit truncated", setLen(h[:HeaderLen+20]), ErrTruncated},
		{"open data size 1", mod(h, len(h)-16-13-3, 1), ErrBadExtension},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Unmarshal(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	_, hit := goldenHit(t)
	noHash := *hit.Hit
	noHash.Results = []FileResult{{Name: "x"}}
	cases := []struct {
		name string
		d    *Descriptor
		want error
	}{
		{"empty query", &Descriptor{Header: Header{Type: TypeQuery}, Query: &Query{}}, ErrEmptyQuery},
		{"nul criteria", &Descriptor{Header: Header{Type: TypeQuery}, Query: &Query{Criteria: "a\x00"}}, ErrBadString},
		{"type mismatch", &Descriptor{Header: Header{Type: TypeQueryHit}, Query: &Query{Criteria: "a"}}, ErrBadType},
		{"too long", &Descriptor{Header: Header{Type: TypeQuery}, Query: &Query{Criteria: strings.Repeat("a", MaxPayload)}}, ErrTooLong},
		{"no results", &Descriptor{Header: Header{Type: TypeQueryHit}, Hit: &QueryHit{}}, ErrBadCount},
		{"result without hash", &Descriptor{Header: Header{Type: TypeQueryHit}, Hit: &noHash}, ErrBadURN},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.d.Marshal(); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestNewGUID(t *testing.T) {
	g, err := NewGUID(bytes.NewReader(bytes.Repeat([]byte{0x55}, 16)))
	if err != nil {
		t.Fatal(err)
	}
	if g[8] != 0xFF || g[15] != 0 || g[0] != 0x55 {
		t.Errorf("guid %x", g)
	}
	if _, err := NewGUID(bytes.NewReader(nil)); err == nil {
		t.Error("short reader accepted")
	}
}

func TestSplitHits(t *testing.T) {
	_, d := goldenHit(t)
	h := d.Hit
	h.Results = nil
	for i := range 40 {
		h.Results = append(h.Results, FileResult{Index: uint32(i), Size: uint64(i) << 30, Name: strings.Repeat("n", 30+i), Hash: hash11()})
	}
	parts, err := SplitHits(h, MaxDescriptor)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 2 {
		t.Fatalf("%d parts", len(parts))
	}
	total := 0
	for _, p := range parts {
		dd := &Descriptor{Header: d.Header, Hit: p}
		b, err := dd.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > MaxDescriptor || len(b) != dd.EncodedLen() {
			t.Fatalf("part of %d bytes, EncodedLen %d", len(b), dd.EncodedLen())
		}
		total += len(p.Results)
	}
	if total != 40 {
		t.Errorf("%d results after split", total)
	}
	one, _ := SplitHits(&QueryHit{Results: h.Results[:1]}, MaxDescriptor)
	if len(one) != 1 {
		t.Errorf("small set split into %d", len(one))
	}
	many := &QueryHit{}
	for range 300 {
		many.Results = append(many.Results, FileResult{Name: "x", Hash: hash11()})
	}
	if parts, _ := SplitHits(many, 1<<20); len(parts) != 2 || len(parts[0].Results) != 255 {
		t.Errorf("300 results: %d parts", len(parts))
	}
	huge := &QueryHit{Results: []FileResult{{Name: strings.Repeat("x", 2000), Hash: hash11()}}}
	if _, err := SplitHits(huge, MaxDescriptor); !errors.Is(err, ErrTooLong) {
		t.Errorf("oversized result: %v", err)
	}
}

func FuzzDescriptor(f *testing.F) {
	for _, g := range []func(testing.TB) ([]byte, *Descriptor){goldenQuery, goldenHit, goldenLargeHit, goldenPartialHit} {
		b, _ := g(f)
		f.Add(b)
	}
	_, d := goldenHit(f)
	d.Hit.IPv6 = netip.MustParseAddr("fd00::1")
	d.Hit.Fingerprint[3] = 1
	b, _ := d.Marshal()
	f.Add(b)
	// Other clients' bytes: liberal query extension areas, LimeWire's QHD
	// private area, results without blake3, LF from 2^31, COBS and
	// deflated GGEP, answer marks, dynamic-query end notices.
	for _, q := range realQueries {
		f.Add(wire(f, "80", q.payload...))
	}
	f.Add(wire(f, "81", "02", "D21A", "C0A80001", "00000000",
		"01000000", "10000000", hx("sha1only.txt"), "00", hx(sha1URN), "00",
		"02000000", "FFFFFFFF", hx("big.iso"), "00", urn11(), "1C", "C3C2"+hx("LF")+"4501010102C0", "00",
		hitTrailer()))
	mark, _ := (&Descriptor{Header: Header{GUID: testGUID, Type: TypeQueryHit, TTL: 2},
		Hit: &QueryHit{Answered: &Answer{Node: "u1", Parts: 3}}}).Marshal()
	f.Add(mark)
	done, _ := (&Descriptor{Header: Header{GUID: testGUID, Type: TypeQueryHit, TTL: 1},
		Hit: &QueryHit{Node: "u1", Done: true}}).Marshal()
	f.Add(done)
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := Unmarshal(in)
		if err != nil {
			return
		}
		out, err := d.Marshal()
		if err != nil {
			t.Fatalf("re-marshal of decoded descriptor: %v", err)
		}
		if len(out) != d.EncodedLen() {
			t.Fatalf("EncodedLen %d, marshalled %d", d.EncodedLen(), len(out))
		}
		if d.Hit != nil && d.Hit.Vendor == ([4]byte{}) {
			copy(d.Hit.Vendor[:], VendorCode) // a zero vendor code is written as ours
		}
		back, err := Unmarshal(out)
		if err != nil || !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func TestDatagram(t *testing.T) {
	want, d := goldenQuery(t)
	b, err := d.MarshalDatagram()
	if err != nil || b[0] != PlaneByte || !bytes.Equal(b[1:], want) {
		t.Fatalf("MarshalDatagram: %x, %v", b, err)
	}
	if back, err := UnmarshalDatagram(b); err != nil || !reflect.DeepEqual(back, d) {
		t.Fatalf("UnmarshalDatagram: %v", err)
	}
	if _, err := UnmarshalDatagram(want); !errors.Is(err, ErrBadPlane) {
		t.Errorf("wrong plane: %v", err)
	}
	if _, err := UnmarshalDatagram(nil); !errors.Is(err, ErrTruncated) {
		t.Errorf("empty: %v", err)
	}
}
