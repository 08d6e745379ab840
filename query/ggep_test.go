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
		{"cobs", []byte{0xC3, 0xC1, 'A', 0x40}, ErrGGEPUnsupported},
		{"deflate", []byte{0xC3, 0xA1, 'A', 0x40}, ErrGGEPUnsupported},
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
	f.Fuzz(func(t *testing.T, in []byte) {
		exts, n, err := ParseGGEP(in)
		if err != nil {
			return
		}
		// The encoding is canonical: re-encoding gives the same bytes.
		out, err := AppendGGEP(nil, exts)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(out, in[:n]) || GGEPLen(exts) != n {
			t.Fatalf("not canonical: %x vs %x", out, in[:n])
		}
	})
}
