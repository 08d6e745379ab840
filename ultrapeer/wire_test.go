package ultrapeer

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/servent-p2p/servent/content"
)

func fill(b byte) (a [32]byte) {
	for i := range a {
		a[i] = b
	}
	return a
}

// goldenRegister is a Register frame written out by hand.
var goldenRegister = &Register{
	Owner: Owner{ID: "l1", Addr: netip.MustParseAddrPort("127.0.0.2:6346"), Fingerprint: fill(0xaa)},
	Update: Update{Full: true, ToVersion: 1, Add: []Entry{
		{Path: "a", Size: 5, Hash: content.Hash(fill(0x11)), Keywords: []string{"a"}},
	}},
}

var goldenRegisterHex = "" +
	"57" + // length 87
	"01" + // type Register
	"02" + // wire version
	"02" + "6c31" + // owner id "l1"
	"04" + "7f000002" + "18ca" + // 127.0.0.2, port 6346
	strings.Repeat("aa", 32) + // fingerprint
	"01" + "00" + "01" + // flags Full, from 0, to 1
	"01" + // 1 entry
	"01" + "61" + "05" + strings.Repeat("11", 32) + // path "a", size 5, hash
	"01" + "01" + "61" + // 1 keyword "a"
	"00" // 0 removals

func TestWireGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Message
		hex  string
	}{
		{"ack", &Ack{Version: 300, Dropped: 2}, "04" + "03" + "ac02" + "02"},
		{"refuse", &Refuse{Reason: RefuseFull, TryUltrapeers: []string{"u1"}}, "06" + "04" + "01" + "01" + "027531"},
		{"update", &Update{FromVersion: 1, ToVersion: 2, Remove: []string{"a"}}, "08" + "02" + "00" + "01" + "02" + "00" + "01" + "0161"},
		{"register", goldenRegister, goldenRegisterHex},
		{"partial entry", &Update{FromVersion: 1, ToVersion: 2, Add: []Entry{{Path: "a", Size: 5, Hash: content.Hash(fill(0x11)), Partial: true}}},
			"2c" + "02" + "00" + "01" + "02" + "01" + "01" + "61" + "05" + strings.Repeat("11", 32) + "01" + "01" + "00" + "00"}, // 1 keyword: the partial mark
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := AppendFrame(nil, tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(b); got != tc.hex {
				t.Fatalf("encoded\n %s\nwant\n %s", got, tc.hex)
			}
			want, _ := hex.DecodeString(tc.hex)
			m, err := ReadFrame(bytes.NewReader(want))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, tc.m) {
				t.Fatalf("decoded %+v, want %+v", m, tc.m)
			}
		})
	}
}

func TestWireRoundTrip(t *testing.T) {
	msgs := []Message{
		goldenRegister,
		&Register{Owner: Owner{ID: "v6", Addr: netip.MustParseAddrPort("[fe80::1%eth0]:1")}},
		&Register{Owner: Owner{ID: "mapped", Addr: netip.MustParseAddrPort("[::ffff:10.0.0.1]:9")}},
		&Update{Full: true, FromVersion: 1 << 62, ToVersion: 1<<64 - 1, Add: []Entry{
			{Path: strings.Repeat("é", MaxPathLen/2), Size: 1<<63 - 1, Keywords: []string{"x", ""}},
			{Path: "b"},
		}},
		&Update{FromVersion: 3, ToVersion: 4, Remove: []string{"x", "y/z"}},
		&Ack{},
		&Refuse{Reason: RefuseNotUltrapeer},
		&Refuse{Reason: RefuseVersionGap, TryUltrapeers: []string{"", "a"}},
	}
	var stream bytes.Buffer
	for _, m := range msgs {
		if err := WriteFrame(&stream, m); err != nil {
			t.Fatalf("WriteFrame(%+v): %v", m, err)
		}
	}
	for i, want := range msgs {
		got, err := ReadFrame(&stream)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if r, ok := want.(*Register); ok && r.Owner.Addr.Addr().Zone() != "" {
			w := *r // the zone is not carried
			w.Owner.Addr = netip.AddrPortFrom(r.Owner.Addr.Addr().WithZone(""), r.Owner.Addr.Port())
			want = &w
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("frame %d: got %+v, want %+v", i, got, want)
		}
	}
	if _, err := ReadFrame(&stream); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestWireEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Message
		err  error
	}{
		{"long id", &Register{Owner: Owner{ID: strings.Repeat("x", MaxIDLen+1)}}, ErrMalformed},
		{"bad utf8", &Update{Add: []Entry{{Path: "\xff"}}}, ErrMalformed},
		{"empty path", &Update{Add: []Entry{{}}}, ErrMalformed},
		{"empty removed path", &Update{Remove: []string{""}}, ErrMalformed},
		{"negative size", &Update{Add: []Entry{{Path: "a", Size: -1}}}, ErrMalformed},
		{"many keywords", &Update{Add: []Entry{{Path: "a", Keywords: make([]string, MaxKeywords+1)}}}, ErrMalformed},
		{"reason", &Refuse{}, ErrMalformed},
		{"many hints", &Refuse{Reason: RefuseFull, TryUltrapeers: make([]string, MaxTryUltrapeers+1)}, ErrMalformed},
		{"too large", &Update{Add: bigAdd()}, ErrFrameTooLarge},
		{"nil", nil, ErrUnknownFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := AppendFrame(nil, tc.m); !errors.Is(err, tc.err) {
				t.Fatalf("AppendFrame: %v, want %v", err, tc.err)
			}
		})
	}
}

// bigAdd returns entries that encode to more than MaxFrameSize.
func bigAdd() []Entry {
	e := Entry{Path: strings.Repeat("p", MaxPathLen)}
	add := make([]Entry, MaxFrameSize/MaxPathLen+1)
	for i := range add {
		add[i] = e
	}
	return add
}

func TestWireDecodeErrors(t *testing.T) {
	reg, _ := hex.DecodeString(goldenRegisterHex)
	mutate := func(i int, b byte) string {
		c := bytes.Clone(reg)
		c[i] = b
		return hex.EncodeToString(c)
	}
	for _, tc := range []struct {
		name string
		hex  string
		err  error
	}{
		{"clean eof", "", io.EOF},
		{"empty frame", "00", ErrMalformed},
		{"huge length", "ffffffff0f", ErrFrameTooLarge},
		{"varint too long", "ffffffffffffffffffff01", ErrMalformed},
		{"non-minimal length", "8300" + "03ac02", ErrMalformed},
		{"truncated length", "ff", ErrTruncated},
		{"truncated body", "0603ac0200", ErrTruncated},
		{"unknown type", "0109", ErrUnknownFrame},
		{"trailing bytes", "0503ac020000", ErrMalformed},
		{"non-minimal field", "0303" + "8000", ErrMalformed},
		{"truncated field", "0203" + "80", ErrTruncated},
		{"bad reason", "030400" + "00", ErrMalformed},
		{"too many hints", "03040121", ErrMalformed},
		{"wire version", mutate(2, 1), ErrUnsupportedVersion},
		{"address length", mutate(6, 5), ErrMalformed},
		{"flags", mutate(45, 0x05), ErrMalformed},
		{"empty removed path", "07" + "0200010200" + "01" + "00", ErrMalformed},
		{"add count beyond bytes", "07" + "0200010205" + "0000", ErrMalformed},
		{"bad utf8 path", "27" + "0200010201" + "01ff" + "01" + strings.Repeat("00", 32) + "0000", ErrMalformed},
		{"empty path", "27" + "0200010201" + "00" + "01" + strings.Repeat("00", 33) + "0000", ErrMalformed},
		{"size over int64", "33" + "0200010201" + "0161" + "80808080808080808001" + strings.Repeat("00", 32) + "0000", ErrMalformed},
		{"size varint overflow", "33" + "0200010201" + "0161" + "ffffffffffffffffff7f" + strings.Repeat("00", 32) + "0000", ErrMalformed},
		{"port without address", mutate(6, 0), ErrMalformed}, // then 7f00 as the port
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := hex.DecodeString(tc.hex)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ReadFrame(bytes.NewReader(b))
			if !errors.Is(err, tc.err) || m != nil {
				t.Fatalf("ReadFrame = %+v, %v; want %v", m, err, tc.err)
			}
		})
	}
}

// FuzzReadFrame: any input either decodes to a message that re-encodes to
// the same bytes, or fails with one of the wire errors; it never panics.
func FuzzReadFrame(f *testing.F) {
	reg, _ := hex.DecodeString(goldenRegisterHex)
	f.Add(reg)
	for _, m := range []Message{
		&Ack{Version: 300},
		&Refuse{Reason: RefuseFull, TryUltrapeers: []string{"u1", "u2"}},
		&Update{FromVersion: 1, ToVersion: 2, Add: []Entry{{Path: "a/b", Size: 7, Keywords: []string{"a", "b"}}}, Remove: []string{"c"}},
		&Update{FromVersion: 1, ToVersion: 2, Add: []Entry{{Path: "p", Size: 7, Partial: true}}},
	} {
		b, err := AppendFrame(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		m, err := ReadFrame(r)
		if err != nil {
			for _, kind := range []error{io.EOF, ErrFrameTooLarge, ErrUnknownFrame, ErrUnsupportedVersion, ErrTruncated, ErrMalformed} {
				if errors.Is(err, kind) {
					return
				}
			}
			t.Fatalf("untyped error %v", err)
		}
		b, err := AppendFrame(nil, m)
		if err != nil {
			t.Fatalf("decoded %+v does not re-encode: %v", m, err)
		}
		if consumed := data[:len(data)-r.Len()]; !bytes.Equal(b, consumed) {
			t.Fatalf("re-encoding differs:\n%x\n%x", b, consumed)
		}
	})
}
