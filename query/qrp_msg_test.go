package query

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// specMsg decodes one message of Appendix B of Rohrs, "Query Routing for the
// Gnutella Network" 1.0 (2002): hex bytes as printed there (one or two
// digits, space separated), "|" after the 23-byte header.
func specMsg(t testing.TB, s string) []byte {
	t.Helper()
	var parts []string
	for _, f := range strings.Fields(strings.ReplaceAll(s, "|", " ")) {
		if len(f) == 1 {
			f = "0" + f
		}
		parts = append(parts, f)
	}
	return unhex(t, parts...)
}

// applySpec feeds messages to a receiver through ReadRouteTableMsg and
// returns the last complete table.
func applySpec(t *testing.T, r *TableReceiver, msgs ...string) *Table {
	t.Helper()
	var last *Table
	var stream []byte
	for _, m := range msgs {
		stream = append(stream, specMsg(t, m)...)
	}
	in := bytes.NewReader(stream)
	for in.Len() > 0 {
		p, err := ReadRouteTableMsg(in)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := r.Receive(p)
		if err != nil {
			t.Fatal(err)
		}
		if tb != nil {
			last = tb
		}
	}
	return last
}

func slotsOf(tb *Table) []int {
	var out []int
	for s := range 1 << tb.bits {
		if tb.has(s) {
			out = append(out, s)
		}
	}
	return out
}

// TestRouteTableSpecExamples decodes the spec's examples 1-5 (8-slot table,
// infinity 7; "test" in slot 2, then "qrp" added in slot 6, then "test"
// removed), with 8- and 4-bit entries, split and zlib-compressed.
func TestRouteTableSpecExamples(t *testing.T) {
	examples := map[string][3][]string{
		"8 bits": {
			{"85 d9 76 4d bf 2 1d 9a ff 72 e7 21 c3 40 dd 0 30 1 0 6 0 0 0 | 0 8 0 0 0 7",
				"a9 ab 9b 14 c1 1e 52 aa ff b4 b4 41 75 6d 29 0 30 1 0 d 0 0 0 | 1 1 1 0 8 0 0 fa 0 0 0 0 0"},
			{"d6 c4 b4 21 36 d0 ae 94 ff 56 7 e9 58 dd 72 0 30 1 0 d 0 0 0 | 1 1 1 0 8 0 0 0 0 0 0 fa 0"},
			{"3a e4 59 89 ae 3b 67 8a ff 96 95 66 e8 b2 b9 0 30 1 0 d 0 0 0 | 1 1 1 0 8 0 0 6 0 0 0 0 0"},
		},
		"4 bits": {
			{"3f 7c 5a 8c 14 8a 38 22 ff bf 3b 76 5e 86 c6 0 30 1 0 6 0 0 0 | 0 8 0 0 0 7",
				"50 4a bb d7 c0 ea 68 68 ff ef 55 65 31 2f 39 0 30 1 0 9 0 0 0 | 1 1 1 0 4 0 a0 0 0"},
			{"5d 34 5b 67 f3 60 e 9c ff bc 26 79 5a 31 d2 0 30 1 0 9 0 0 0 | 1 1 1 0 4 0 0 0 a0"},
			{"f4 26 fa 2d b6 cc 23 7f ff ab 87 ef 6f 3a 93 0 30 1 0 9 0 0 0 | 1 1 1 0 4 0 60 0 0"},
		},
		"4 bits split": {
			{"7e a1 67 2f 86 3b 9 8b ff a2 cd 26 88 4d 84 0 30 1 0 6 0 0 0 | 0 8 0 0 0 7",
				"a0 71 1 1f b1 e7 9e 63 ff f0 8a 60 c0 5a c 0 30 1 0 7 0 0 0 | 1 1 2 0 4 0 a0",
				"d 1b e6 71 eb 26 9c f ff 10 60 7f 31 72 41 0 30 1 0 7 0 0 0 | 1 2 2 0 4 0 0"},
			{"c7 ed 3d ca 3e ab 1d 5e ff e8 d6 5 1b 71 f6 0 30 1 0 7 0 0 0 | 1 1 2 0 4 0 0",
				"10 28 ad 5c fb 37 ba 4e ff 6b 38 a0 e2 1d d4 0 30 1 0 7 0 0 0 | 1 2 2 0 4 0 a0"},
			{"40 11 74 1d ff 85 b8 b3 ff 95 58 0 ee 6f de 0 30 1 0 7 0 0 0 | 1 1 2 0 4 0 60",
				"d8 6d f5 d1 38 a8 8 cf ff 20 c9 eb d2 f1 2b 0 30 1 0 7 0 0 0 | 1 2 2 0 4 0 0"},
		},
		"4 bits zlib": {
			{"71 9f 38 68 49 c0 96 45 ff 23 ae 12 2 cd b3 0 30 1 0 6 0 0 0 | 0 8 0 0 0 7",
				"f1 a9 21 cf 47 75 9f 50 ff 8 f1 f3 57 d9 c3 0 30 1 0 11 0 0 0 | 1 1 1 1 4 78 9c 63 58 c0 c0 0 0 1 e4 0 a1"},
			{"fe 8 b5 ed a fb e7 88 ff d8 4d 6 af b 11 0 30 1 0 11 0 0 0 | 1 1 1 1 4 78 9c 63 60 60 58 0 0 0 a4 0 a1"},
			{"5a 23 fc 3d 27 d0 b1 17 ff b 92 c6 a2 af 1f 0 30 1 0 11 0 0 0 | 1 1 1 1 4 78 9c 63 48 60 60 0 0 1 24 0 61"},
		},
		"4 bits split zlib": {
			{"2a c8 2f 10 90 1c a7 1e ff 14 6c 12 71 9f b7 0 30 1 0 6 0 0 0 | 0 8 0 0 0 7",
				"1f 6c dc 54 ac 1f 42 cc ff 31 99 15 a0 e0 36 0 30 1 0 f 0 0 0 | 1 1 2 1 4 78 9c 63 58 c0 c0 0 0 1 e4",
				"c1 c0 1a 79 2e 32 6e 54 ff e7 8d 21 de 4 3c 0 30 1 0 7 0 0 0 | 1 2 2 1 4 0 a1"},
			{"63 79 60 3 36 4f dd 86 ff a1 84 c4 dd d6 c7 0 30 1 0 f 0 0 0 | 1 1 2 1 4 78 9c 63 60 60 58 0 0 0 a4",
				"6d 93 7 a0 73 14 1b 69 ff 62 66 ba 56 47 10 0 30 1 0 7 0 0 0 | 1 2 2 1 4 0 a1"},
			{"70 da 77 93 a2 f6 53 39 ff 5f e7 fa 2c 1f c2 0 30 1 0 f 0 0 0 | 1 1 2 1 4 78 9c 63 48 60 60 0 0 1 24",
				"7a 19 5c b6 54 ba bc ec ff 4e 3d c5 d1 2f a9 0 30 1 0 7 0 0 0 | 1 2 2 1 4 0 61"},
		},
	}
	want := [3]string{"[2]", "[2 6]", "[6]"}
	for name, steps := range examples {
		t.Run(name, func(t *testing.T) {
			var r TableReceiver
			for i, msgs := range steps {
				tb := applySpec(t, &r, msgs...)
				if tb == nil || tb.bits != 3 || fmtInts(slotsOf(tb)) != want[i] {
					t.Fatalf("step %d: table %v, want slots %s", i, tb, want[i])
				}
			}
		})
	}
}

func fmtInts(s []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(rune('0' + v)))
	}
	b.WriteByte(']')
	return b.String()
}

// TestRouteTableUpdates round-trips tables of the default size through
// AppendUpdates and TableReceiver: a RESET and full table, a change, a
// resize, and checks the bytes of a small update against the spec's layout.
func TestRouteTableUpdates(t *testing.T) {
	var r TableReceiver
	send := func(old, cur *Table) *Table {
		t.Helper()
		b, err := AppendUpdates(nil, GUID{9}, old, cur)
		if err != nil {
			t.Fatal(err)
		}
		in := bytes.NewReader(b)
		var got *Table
		for in.Len() > 0 {
			p, err := ReadRouteTableMsg(in)
			if err != nil {
				t.Fatal(err)
			}
			if tb, err := r.Receive(p); err != nil {
				t.Fatal(err)
			} else if tb != nil {
				got = tb
			}
		}
		if got == nil || !got.Equal(cur) {
			t.Fatalf("receiver holds a different table")
		}
		return got
	}
	v1 := NewTable(DefaultTableBits)
	for i := range 5000 {
		v1.AddKeyword("word" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)))
	}
	send(nil, v1)
	v2 := v1.Clone()
	v2.Add("another")
	send(v1, v2)
	small := NewTable(MinTableBits)
	small.Add("test")
	send(v2, small)

	b, err := AppendUpdates(nil, GUID{1}, nil, small)
	if err != nil {
		t.Fatal(err)
	}
	// RESET: header (type 0x30, TTL 1, hops 0, length 6), variant 0, length 8 LE, infinity 2.
	if want := specMsg(t, "1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 30 1 0 6 0 0 0 | 0 8 0 0 0 2"); !bytes.Equal(b[:len(want)], want) {
		t.Fatalf("reset % x", b[:len(want)])
	}
	// PATCH 1/1, zlib, 4 bits; "test" is slot 2: entries 00 F0 00 00.
	if p := b[29+HeaderLen:]; !bytes.Equal(p[:5], []byte{1, 1, 1, 1, 4}) {
		t.Fatalf("patch head % x", p[:5])
	}
}

func TestRouteTableErrors(t *testing.T) {
	reset := specMsg(t, "0 8 0 0 0 7")
	for _, c := range []struct {
		name string
		msgs [][]byte
	}{
		{"patch before reset", [][]byte{specMsg(t, "1 1 1 0 4 0 a0 0 0")}},
		{"length not a power of 2", [][]byte{specMsg(t, "0 9 0 0 0 7")}},
		{"table too large", [][]byte{specMsg(t, "0 0 0 0 1 7")}},
		{"entry bits 3", [][]byte{reset, specMsg(t, "1 1 1 0 3 0 a0 0 0")}},
		{"short entries", [][]byte{reset, specMsg(t, "1 1 1 0 4 0 a0 0")}},
		{"out of sequence", [][]byte{reset, specMsg(t, "1 2 2 0 4 0 a0")}},
		{"bad zlib", [][]byte{reset, specMsg(t, "1 1 1 1 4 78 9c 63 58")}},
		{"unknown variant", [][]byte{specMsg(t, "7 0")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r TableReceiver
			var err error
			for _, m := range c.msgs {
				if _, err = r.Receive(m); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrBadPatch) && !errors.Is(err, ErrTruncated) {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func FuzzTableReceiver(f *testing.F) {
	f.Add(specMsg(f, "0 8 0 0 0 7"), specMsg(f, "1 1 1 1 4 78 9c 63 58 c0 c0 0 0 1 e4 0 a1"))
	f.Add(specMsg(f, "0 8 0 0 0 7"), specMsg(f, "1 1 1 0 8 0 0 fa 0 0 0 0 0"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var r TableReceiver
		for _, m := range [][]byte{a, b} {
			tb, err := r.Receive(m)
			if err == nil && tb != nil && tb.bits != r.cur.bits {
				t.Fatalf("table of %d bits from a %d-bit reset", tb.bits, r.cur.bits)
			}
		}
	})
}
