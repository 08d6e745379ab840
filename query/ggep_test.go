package query

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestGGEPGolden(t *testing.T) {
	d100 := bytes.Repeat([]byte{7}, 100)
	d5000 := bytes.Repeat([]byte{9}, 5000)
	exts := []GGEPExt{{ID: "A", Data: nil}, {ID: "BC", Data: d100}, {ID: "D", Data: d5000}}
	want := unhex(t,
		"C3",                // magic
		"01", hx("A"), "40", // ID length 1, "A", length 0 (last length byte)
		"02", hx("BC"), "81", "64", // ID length 2, length 100 = 1<<6 | 36: 0x80|1, 0x40|36
	)
	want = append(want, d100...)
	want = append(want, unhex(t,
		"81", hx("D"), "81", "8E", "48", // last ext, length 5000 = 1<<12 | 14<<6 | 8
	)...)
	want = append(want, d5000...)
	got, err := AppendGGEP(nil, exts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendGGEP:\n got %x\nwant %x", got[:20], want[:20])
	}
	if GGEPLen(exts) != len(want) {
		t.Errorf("GGEPLen %d, want %d", GGEPLen(exts), len(want))
	}
	back, n, err := ParseGGEP(append(bytes.Clone(want), 0xEE))
	if err != nil || n != len(want) {
		t.Fatalf("ParseGGEP n=%d err=%v", n, err)
	}
	exts[0].Data = []byte{}
	if !reflect.DeepEqual(back, exts) {
		t.Errorf("ParseGGEP mismatch")
	}
}

func TestGGEPErrors(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"bad magic", []byte{0xC2, 0x81, 'A', 0x40}, ErrBadGGEP},
		{"no last", []byte{0xC3, 0x01, 'A', 0x40}, ErrTruncated},
		{"reserved", []byte{0xC3, 0x91, 'A', 0x40}, ErrBadGGEP},
		{"zero id", []byte{0xC3, 0x80, 0x40}, ErrBadGGEP},
		{"nul id", []byte{0xC3, 0x81, 0, 0x40}, ErrBadGGEP},
		{"len both bits", []byte{0xC3, 0x81, 'A', 0xC0}, ErrBadGGEP},
		{"len no bits", []byte{0xC3, 0x81, 'A', 0x01}, ErrBadGGEP},
		{"len non-minimal", []byte{0xC3, 0x81, 'A', 0x80, 0x41, 0}, ErrBadGGEP},
		{"len 4 bytes", []byte{0xC3, 0x81, 'A', 0x81, 0x81, 0x81, 0x41}, ErrBadGGEP},
		{"data short", []byte{0xC3, 0x81, 'A', 0x42, 1}, ErrTruncated},
		{"duplicate", []byte{0xC3, 0x01, 'A', 0x40, 0x81, 'A', 0x40}, ErrBadGGEP},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := ParseGGEP(c.in); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	for _, bad := range [][]GGEPExt{nil, {{ID: ""}}, {{ID: "0123456789abcdef"}}, {{ID: "a\x00"}}, {{ID: "x", Data: make([]byte, MaxGGEPData+1)}}} {
		if _, err := AppendGGEP(nil, bad); err == nil {
			t.Errorf("AppendGGEP(%v) accepted", bad)
		}
	}
}

func FuzzGGEP(f *testing.F) {
	f.Add([]byte{0xC3, 0x01, 'A', 0x40, 0x82, 'B', 'C', 0x42, 1, 2})
	f.Add([]byte{0xC3, 0x81, 'L', 0x81, 0x40})
	f.Add([]byte{0xC3, 0xC2, 'L', 'F', 0x46, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01})                                       // COBS
	f.Add(append([]byte{0xC3, 0xA1, 'Z', 0x40 | 11}, 0x78, 0x9c, 0x63, 0x60, 0x60, 0x64, 0x02, 0x00, 0x00, 0x0a, 0x00)) // deflated
	f.Fuzz(func(t *testing.T, in []byte) {
		exts, n, err := ParseGGEP(in)
		if err != nil || len(exts) == 0 {
			return
		}
		out, err := AppendGGEP(nil, exts)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if GGEPLen(exts) != len(out) {
			t.Fatalf("GGEPLen %d, encoded %d", GGEPLen(exts), len(out))
		}
		// Raw data re-encodes to the same bytes; COBS-encoded or deflated
		// data to the same decoded values.
		if bytes.Equal(out, in[:n]) {
			return
		}
		back, _, err := ParseGGEP(out)
		if err != nil || len(back) != len(exts) {
			t.Fatalf("re-parse: %v", err)
		}
		for i := range back {
			if back[i].ID != exts[i].ID || !bytes.Equal(back[i].Data, exts[i].Data) {
				t.Fatalf("round trip of %q changed its data", exts[i].ID)
			}
		}
	})
}
