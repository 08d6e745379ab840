package overlay

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/servent-p2p/servent/role"
)

func TestMetaRoundTrip(t *testing.T) {
	fp := Fingerprint{1, 2, 3, 31: 9}
	tests := []struct {
		name string
		m    Meta
	}{
		{"zero", Meta{}},
		{"full", Meta{Role: role.Ultrapeer, Capacity: 3.5, Protocol: 1, Fingerprint: fp, Shares: 1 << 40, Started: time.Unix(1_700_000_000, 0), QUICPort: 6346,
			Addrs: []netip.Addr{netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("fe80::1"), netip.MustParseAddr("2001:db8::7")}}},
		{"flood", Meta{Role: role.Flood, Capacity: -1}},
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
			if !slices.Equal(got.Addrs, tc.m.Addrs) {
				t.Fatalf("addrs %v, want %v", got.Addrs, tc.m.Addrs)
			}
			got.Addrs, tc.m.Addrs = nil, nil
			if !reflect.DeepEqual(got, tc.m) {
				t.Fatalf("got %+v, want %+v", got, tc.m)
			}
		})
	}
}

func TestDecodeMetaErrors(t *testing.T) {
	good := EncodeMeta(Meta{Role: role.Leaf})
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"empty", nil, false},
		{"version0", append([]byte{0}, good[1:]...), false},
		{"short", good[:20], false},
		{"too long", append(append([]byte{}, good...), make([]byte, MaxMetaLen)...), false},
		{"version 1 (no addresses)", append([]byte{1}, good[1:metaLenV1]...), true},
		{"version 2 without address count", append([]byte{2}, good[1:metaLenV1]...), false},
		{"bad address length", append(append([]byte{2}, good[1:metaLenV1]...), 1, 5, 1, 2, 3, 4, 5), false},
		{"truncated address", append(append([]byte{2}, good[1:metaLenV1]...), 1, 16, 1, 2), false},
		{"future version with extra fields", append(append([]byte{3}, good[1:]...), 7, 7), true},
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
	f.Add(EncodeMeta(Meta{Role: role.Ultrapeer, Capacity: 2, Shares: 5}))
	f.Add(EncodeMeta(Meta{Addrs: []netip.Addr{netip.MustParseAddr("fe80::1"), netip.MustParseAddr("169.254.3.4")}}))
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
		if again.Fingerprint != m.Fingerprint || again.Shares != m.Shares || again.Role != m.Role || !slices.Equal(again.Addrs, m.Addrs) {
			t.Fatalf("round trip changed %+v to %+v", m, again)
		}
	})
}
