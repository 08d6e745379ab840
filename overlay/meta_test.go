package overlay

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestMetaRoundTrip(t *testing.T) {
	fp := Fingerprint{1, 2, 3, 31: 9}
	tests := []struct {
		name string
		m    Meta
	}{
		{"zero", Meta{}},
		{"full", Meta{Role: RoleUltrapeer, Capacity: 3.5, Protocol: 1, Fingerprint: fp, Shares: 1 << 40, Started: time.Unix(1_700_000_000, 0), QUICPort: 6346}},
		{"flood", Meta{Role: RoleFlood, Capacity: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := EncodeMeta(tc.m)
			if len(b) > MaxMetaLen {
				t.Fatalf("encoded %d bytes", len(b))
			}
			got, err := DecodeMeta(b)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Started.Equal(tc.m.Started) {
				t.Fatalf("started %v, want %v", got.Started, tc.m.Started)
			}
			got.Started = tc.m.Started
			if got != tc.m {
				t.Fatalf("got %+v, want %+v", got, tc.m)
			}
		})
	}
}

func TestDecodeMetaErrors(t *testing.T) {
	good := EncodeMeta(Meta{Role: RoleLeaf})
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"empty", nil, false},
		{"version0", append([]byte{0}, good[1:]...), false},
		{"short", good[:20], false},
		{"too long", append(append([]byte{}, good...), make([]byte, MaxMetaLen)...), false},
		{"future version with extra fields", append(append([]byte{2}, good[1:]...), 7, 7), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeMeta(tc.b)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrBadMeta) {
				t.Fatalf("err %v is not ErrBadMeta", err)
			}
		})
	}
}

func FuzzDecodeMeta(f *testing.F) {
	f.Add(EncodeMeta(Meta{Role: RoleUltrapeer, Capacity: 2, Shares: 5}))
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Add(bytes.Repeat([]byte{0xff}, 80))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMeta(b)
		if err != nil {
			return
		}
		again, err := DecodeMeta(EncodeMeta(m))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if again.Fingerprint != m.Fingerprint || again.Shares != m.Shares || again.Role != m.Role {
			t.Fatalf("round trip changed %+v to %+v", m, again)
		}
	})
}
