package query

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestRouteTableStream sends a table, a change and a resize on one stream
// (WriteRouteTable) and reads each back whole (RouteTableReader), then a
// clean end.
func TestRouteTableStream(t *testing.T) {
	v1 := NewTable(DefaultTableBits)
	v1.AddKeyword("evacuation")
	v2 := v1.Clone()
	v2.AddKeyword("shelter")
	small := NewTable(MinTableBits)
	small.Add("test")
	var stream bytes.Buffer
	sent := []*Table{v1, v2, small}
	var old *Table
	for _, cur := range sent {
		if err := WriteRouteTable(&stream, GUID{7}, old, cur); err != nil {
			t.Fatal(err)
		}
		old = cur
	}
	r := NewRouteTableReader(&stream)
	for i, want := range sent {
		got, err := r.Next()
		if err != nil || !got.Equal(want) {
			t.Fatalf("table %d: %v, equal %v", i, err, err == nil && got.Equal(want))
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last table: %v, want io.EOF", err)
	}
}

// TestRouteTableStreamErrors: a stream cut inside a message, a descriptor
// of another type and an empty payload each end the stream with an error.
func TestRouteTableStreamErrors(t *testing.T) {
	tb := NewTable(MinTableBits)
	tb.Add("test")
	var whole bytes.Buffer
	if err := WriteRouteTable(&whole, GUID{}, nil, tb); err != nil {
		t.Fatal(err)
	}
	query := specMsg(t, "1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 80 1 0 1 0 0 0 | 0")
	empty := specMsg(t, "1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 30 1 0 0 0 0 0")
	for _, c := range []struct {
		name   string
		stream []byte
		want   error
	}{
		{"cut", whole.Bytes()[:whole.Len()-3], io.ErrUnexpectedEOF},
		{"another type", query, ErrBadType},
		{"empty payload", empty, ErrTooLong},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewRouteTableReader(bytes.NewReader(c.stream)).Next(); !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}

// FuzzQRPFrame reads arbitrary bytes as a QRP stream (no panic, every
// table of a valid size), and round-trips the tables of two keyword lists
// through WriteRouteTable and RouteTableReader.
func FuzzQRPFrame(f *testing.F) {
	var seed bytes.Buffer
	tb := NewTable(MinTableBits)
	tb.Add("test")
	WriteRouteTable(&seed, GUID{1}, nil, tb)
	f.Add(seed.Bytes(), "evacuation map", "shelter")
	f.Add([]byte{}, "", "a b c")
	f.Fuzz(func(t *testing.T, stream []byte, words1, words2 string) {
		r := NewRouteTableReader(bytes.NewReader(stream))
		for range 64 {
			got, err := r.Next()
			if err != nil {
				break
			}
			if got.Bits() < MinTableBits || got.Bits() > MaxTableBits {
				t.Fatalf("table of %d bits", got.Bits())
			}
		}
		var w bytes.Buffer
		var old *Table
		var sent []*Table
		for _, words := range []string{words1, words2} {
			cur := NewTable(MinTableBits)
			for _, k := range strings.Fields(words) {
				cur.AddKeyword(k)
			}
			if err := WriteRouteTable(&w, GUID{2}, old, cur); err != nil {
				t.Fatal(err)
			}
			old, sent = cur, append(sent, cur)
		}
		r = NewRouteTableReader(&w)
		for i, want := range sent {
			if got, err := r.Next(); err != nil || !got.Equal(want) {
				t.Fatalf("table %d did not round-trip: %v", i, err)
			}
		}
	})
}
