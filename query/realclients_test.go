package query

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/servent-p2p/servent/role"
)

// Decoder tests built from what other Gnutella 0.6 servents put on the
// wire, byte by byte as LimeWire's and gtk-gnutella's encoders write it
// (QueryRequest, Response, QueryReply, GGEP, COBSUtil, HUGE 0.94), not from
// this codec's encoder.

// wire assembles a descriptor: GUID testGUID, the payload type, TTL 3, hops
// 2, and the payload given as hex parts; the length is computed.
func wire(t testing.TB, typ string, payload ...string) []byte {
	t.Helper()
	p := unhex(t, payload...)
	h := unhex(t, "0102030405060708 FF0A0B0C0D0E0F00", typ, "03", "02")
	return append(binary.LittleEndian.AppendUint32(h, uint32(len(p))), p...)
}

const sha1URN = "urn:sha1:PLSTHIPQGSSZTS5FJUPAKUZWUGYQYPFB"

func mustUnmarshal(t *testing.T, b []byte) *Descriptor {
	t.Helper()
	d, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("Unmarshal: %v\n% x", err, b)
	}
	return d
}

// realQueries are the query payloads of TestRealQueries (also fuzz seeds).
var realQueries = []struct {
	name     string
	payload  []string
	flags    uint16
	criteria string
	hash     bool
	answered bool
}{
	{
		// LimeWire QueryRequest: flags big-endian (0x8000 new format |
		// 0x4000 firewalled | 0x2000 XML | 0x0400 GGEP "H"), criteria,
		// XML rich query, 0x1C, GGEP ("M" meta flags), and the final NUL
		// LimeWire always writes.
		name: "limewire xml ggep final nul",
		payload: []string{"E400", hx("evacuation plan"), "00",
			hx(`<?xml version="1.0"?><documents><document title="evacuation"/></documents>`), "1C",
			"C3", "81", hx("M"), "41", "04", "00"},
		flags: 0xE400, criteria: "evacuation plan",
	},
	{
		// HUGE 0.94: a URN query, "\\" as criteria, the URN between NULs.
		name:    "huge urn between nuls",
		payload: []string{"8000", hx(`\`), "00", hx(sha1URN), "00"},
		flags:   0x8000, criteria: `\`,
	},
	{
		name:    "blake3 urn between nuls",
		payload: []string{"8000", "00", urn11(), "00"},
		flags:   0x8000, hash: true,
	},
	{
		// Legacy metadata and a bare "urn:" ("send me any URN").
		name:    "unknown strings",
		payload: []string{"0000", hx("water map"), "00", hx("urn:"), "1C", hx("192 kbps 44 kHz"), "1C", urn11()},
		flags:   0, criteria: "water map", hash: true,
	},
	{
		// GGEP 0.51: LimeWire COBS-encodes a value holding 0x00 ("PR",
		// 00 05 → 01 02 05), and a deflated value (zlib, as
		// java.util.zip.Deflater writes it); then our "AN".
		name: "cobs and deflated ggep",
		payload: []string{"8000", hx("north"), "00",
			"C3", "42", hx("PR"), "43", "010205",
			"22", hx("XQ"), "59", "789cb329b44b2d4b4c2e4d2cc9cccfb3d12fb4030038e70635",
			"82", hx("AN"), "40"},
		flags: 0x8000, criteria: "north", answered: true,
	},
	{
		// An undecodable deflated value is skipped, not fatal.
		name:    "bad deflate skipped",
		payload: []string{"8000", hx("north"), "00", "C3", "A2", hx("XQ"), "43", "010203"},
		flags:   0x8000, criteria: "north",
	},
}

func TestRealQueries(t *testing.T) {
	for _, c := range realQueries {
		t.Run(c.name, func(t *testing.T) {
			b := wire(t, "80", c.payload...)
			d := mustUnmarshal(t, b)
			q := d.Query
			if q.Flags != c.flags || q.Criteria != c.criteria || q.Hash.IsZero() == c.hash || q.WantAnswered != c.answered {
				t.Fatalf("decoded %+v", q)
			}
			// Forwarding re-encodes the query: every byte of the extension
			// area (GGEP, XML, other URNs) is passed on.
			out, err := d.Marshal()
			if err != nil || !bytes.Equal(out, b) {
				t.Fatalf("re-encoded (%v)\n% x\nwant\n% x", err, out, b)
			}
		})
	}
}

// TestForwardKeepsExtensions: a query from another client forwarded by the
// router carries its whole extension area.
func TestForwardKeepsExtensions(t *testing.T) {
	b := wire(t, "80", "E400", hx("evacuation"), "00", hx(`<?xml version="1.0"?><x/>`), "1C", "C3", "81", hx("M"), "41", "04", "00")
	d := mustUnmarshal(t, b)
	cfg := DefaultConfig("u1")
	cfg.QueryRate = 0
	r := NewRouter(cfg, nil)
	r.SetTopology(role.Ultrapeer, []PeerID{"u0", "u2"}, nil, nil)
	res := r.Handle(time.Unix(1, 0), "u0", d)
	if len(res.Send) != 1 || res.Send[0].To != "u2" {
		t.Fatalf("sent %+v", res.Send)
	}
	out, err := res.Send[0].D.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out[HeaderLen:], b[HeaderLen:]) || out[17] != 2 || out[18] != 3 {
		t.Fatalf("forwarded\n% x\nreceived\n% x", out, b)
	}
}

// hitTrailer is a LimeWire QHD: vendor "LIME", open data size 4 (flags,
// flags-valid, 2-byte XML size), private area = chat byte, GGEP block, XML;
// then the servent ID.
func hitTrailer() string {
	xml := `<?xml version="1.0"?><audios><audio title="Ã"/></audios>`
	return hx("LIME") + "04" + "3C" + "31" + fmt.Sprintf("%02X%02X", (len(xml)+1)&0xFF, (len(xml)+1)>>8) +
		"01" + // chat byte before the GGEP block
		"C3" + "02" + hx("BH") + "40" + "83" + hx("GUE") + "41" + "01" + // GGEP: "BH", "GUE"
		hx(xml) + "00" + // XML after it (contains 0xC3 in "Ã")
		"00112233445566778899AABBCCDDEEFF"
}

func TestRealHits(t *testing.T) {
	t.Run("limewire private area", func(t *testing.T) {
		b := wire(t, "81", "01", "D21A", "C0A80001", "00000000",
			"07000000", "10000000", hx("map.pdf"), "00", urn11(), "00",
			hitTrailer())
		h := mustUnmarshal(t, b).Hit
		if string(h.Vendor[:]) != "LIME" || len(h.Results) != 1 || h.Results[0].Name != "map.pdf" || h.ServentID[15] != 0xFF {
			t.Fatalf("decoded %+v", h)
		}
	})
	t.Run("a result without blake3 drops only that result", func(t *testing.T) {
		b := wire(t, "81", "02", "D21A", "C0A80001", "00000000",
			"01000000", "10000000", hx("sha1only.txt"), "00", hx(sha1URN), "00",
			"02000000", "20000000", hx("both.txt"), "00", hx(sha1URN), "1C", urn11(), "00",
			hitTrailer())
		h := mustUnmarshal(t, b).Hit
		if len(h.Results) != 1 || h.Results[0].Name != "both.txt" || h.Results[0].Size != 0x20 {
			t.Fatalf("results %+v", h.Results)
		}
	})
	t.Run("no usable result", func(t *testing.T) {
		b := wire(t, "81", "01", "D21A", "C0A80001", "00000000",
			"01000000", "10000000", hx("sha1only.txt"), "00", hx(sha1URN), "00", hitTrailer())
		if _, err := Unmarshal(b); !errors.Is(err, ErrBadURN) {
			t.Fatalf("err %v, want ErrBadURN", err)
		}
	})
	t.Run("legacy metadata in the extension block", func(t *testing.T) {
		b := wire(t, "81", "01", "D21A", "C0A80001", "00000000",
			"01000000", "10000000", hx("song.mp3"), "00", hx("192 kbps 44 kHz 3:45"), "1C", urn11(), "00", hitTrailer())
		if h := mustUnmarshal(t, b).Hit; len(h.Results) != 1 {
			t.Fatalf("results %+v", h.Results)
		}
	})
	for _, lf := range []struct {
		name   string
		size32 string
		ggep   string
		want   uint64
	}{
		// gtk-gnutella and LimeWire use LF from 2^31: the 32-bit field
		// holds 0xFFFFFFFF (or the truncated value), LF the real size.
		{"lf 2^31 raw", "FFFFFFFF", "C3" + "82" + hx("LF") + "44" + "00000080", 1 << 31},
		{"lf 3 GiB cobs", "FFFFFFFF", "C3" + "C2" + hx("LF") + "45" + "01010102C0", 3 << 30},
		{"lf with truncated size field", "000000C0", "C3" + "C2" + hx("LF") + "45" + "01010102C0", 3 << 30},
		{"lf 6 GiB raw", "FFFFFFFF", "C3" + "82" + hx("LF") + "45" + "0000008001", 6 << 30},
	} {
		t.Run(lf.name, func(t *testing.T) {
			b := wire(t, "81", "01", "D21A", "C0A80001", "00000000",
				"01000000", lf.size32, hx("big.iso"), "00", urn11(), "1C", lf.ggep, "00", hitTrailer())
			h := mustUnmarshal(t, b).Hit
			if len(h.Results) != 1 || h.Results[0].Size != lf.want {
				t.Fatalf("results %+v, want size %d", h.Results, lf.want)
			}
		})
	}
	t.Run("size escape without lf drops the result", func(t *testing.T) {
		b := wire(t, "81", "02", "D21A", "C0A80001", "00000000",
			"01000000", "FFFFFFFF", hx("big.iso"), "00", urn11(), "00",
			"02000000", "10000000", hx("small.txt"), "00", urn11(), "00", hitTrailer())
		if h := mustUnmarshal(t, b).Hit; len(h.Results) != 1 || h.Results[0].Name != "small.txt" {
			t.Fatalf("results %+v", h.Results)
		}
	})
}

// TestOwnLargeFileCOBS: the LF this servent writes has no 0x00 inside the
// result's NUL-terminated extension block.
func TestOwnLargeFileCOBS(t *testing.T) {
	for _, size := range []uint64{size32Escape, 1 << 32, 5 << 30, 1 << 40, 1<<64 - 1} {
		r := FileResult{Index: 1, Size: size, Name: "x", Hash: hash11()}
		b, err := r.appendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		ext := b[resultFixed+len("x")+1 : len(b)-1]
		if bytes.IndexByte(ext, 0) >= 0 || len(b) != r.encodedLen() {
			t.Fatalf("size %d: extension block % x (len %d, encodedLen %d)", size, ext, len(b), r.encodedLen())
		}
		var back FileResult
		if _, ok, err := parseResult(b, &back); err != nil || !ok || back != r {
			t.Fatalf("size %d: back %+v ok %v err %v", size, back, ok, err)
		}
	}
}

func TestCOBS(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"", "01"}, {"00", "0101"}, {"0000000001", "010101010201"}, {"1100223300", "021103223301"},
	} {
		in := unhex(t, c.in)
		got := cobsEncode(nil, in)
		if want := unhex(t, c.out); !bytes.Equal(got, want) || cobsLen(in) != len(want) {
			t.Errorf("cobsEncode(%s) = % x, want %s (cobsLen %d)", c.in, got, c.out, cobsLen(in))
		}
		if back, err := cobsDecode(got); err != nil || !bytes.Equal(back, in) {
			t.Errorf("cobsDecode(% x) = % x, %v", got, back, err)
		}
	}
	long := bytes.Repeat([]byte{7}, 600)
	if back, err := cobsDecode(cobsEncode(nil, long)); err != nil || !bytes.Equal(back, long) || cobsLen(long) != len(cobsEncode(nil, long)) {
		t.Errorf("600-byte run: %v", err)
	}
}
