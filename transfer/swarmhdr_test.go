package transfer

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/servent-p2p/servent/content"
)

func TestAvailableRanges(t *testing.T) {
	const size = 5*content.ChunkSize + 10 // six chunks, the last of 10 bytes
	tests := []struct {
		have []byte
		want string
	}{
		{[]byte{0}, "bytes "},
		{[]byte{0b111111}, "bytes 0-5242889"},
		{[]byte{0b100101}, "bytes 0-1048575,2097152-3145727,5242880-5242889"},
		{[]byte{0b000110}, "bytes 1048576-3145727"},
	}
	for _, tt := range tests {
		got := formatRanges(tt.have, size)
		if got != tt.want {
			t.Errorf("formatRanges(%08b) = %q, want %q", tt.have, got, tt.want)
		}
		back, err := parseRanges(got, size)
		if err != nil || !bytes.Equal(back, tt.have) {
			t.Errorf("parseRanges(%q) = %08b, %v; want %08b", got, back, err, tt.have)
		}
	}
	// Unaligned ranges count only for the chunks they cover whole.
	if have, err := parseRanges("bytes 10-2097151, 4194304-4194400", size); err != nil || !bytes.Equal(have, []byte{0b10}) {
		t.Errorf("unaligned: %08b, %v", have, err)
	}
	for _, bad := range []string{"0-10", "bytes 5-1", "bytes 0-5242890", "bytes x-1", "bytes -1-4"} {
		if _, err := parseRanges(bad, size); err == nil {
			t.Errorf("parseRanges(%q): no error", bad)
		}
	}
	// A seeder holding back chunks 1 and 4 offers the rest.
	if got := complementRanges([]int{4, 1}, size); got != "bytes 0-1048575,2097152-4194303,5242880-5242889" {
		t.Errorf("complementRanges = %q", got)
	}
}

func TestAltsAndRange(t *testing.T) {
	k1, k2 := Key{1}, Key{2}
	v := formatAlts([]Key{k1, k2})
	if got := parseAlts(v + ",nonsense, " + strings.Repeat("ab", 31)); len(got) != 2 || got[0] != k1 || got[1] != k2 {
		t.Errorf("parseAlts(%q) = %x", v, got)
	}
	many := make([]Key, 3*maxAlts)
	if got := parseAlts(strings.Repeat(formatAlts(many[:maxAlts])+",", 3)); len(got) != maxAlts {
		t.Errorf("parseAlts took %d keys, at most %d", len(got), maxAlts)
	}
	for _, tt := range []struct {
		v       string
		off, n  int64
		wantsOK bool
	}{
		{"bytes=0-99", 0, 100, true},
		{"bytes=100-", 100, 900, true},
		{"bytes=900-5000", 900, 100, true},
		{"bytes=0-1,5-6", 0, 0, false},
		{"bytes=1000-", 0, 0, false},
		{"bytes=-5", 0, 0, false},
		{"items=0-1", 0, 0, false},
	} {
		off, n, ok := singleRange(tt.v, 1000)
		if ok != tt.wantsOK || ok && (off != tt.off || n != tt.n) {
			t.Errorf("singleRange(%q) = %d, %d, %v", tt.v, off, n, ok)
		}
	}
}

// FuzzSwarmHeaders: the swarming headers never crash the parsers, and
// what they accept stays inside the file.
func FuzzSwarmHeaders(f *testing.F) {
	f.Add("bytes 0-1048575,2097152-3145727", int64(3<<20))
	f.Add("bytes 0-0", int64(1))
	f.Add("01ab,zz", int64(0))
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size < 0 || size > 1<<40 {
			return
		}
		if have, err := parseRanges(v, size); err == nil {
			n := content.NumChunks(size)
			if len(have) != (n+7)/8 {
				t.Fatalf("bitmap of %d bytes for %d chunks", len(have), n)
			}
			again, err := parseRanges(formatRanges(have, size), size)
			if err != nil {
				t.Fatalf("round trip of %08b: %v", have, err)
			}
			for i := range again { // formatRanges may cut a long list: a subset
				if again[i]&^have[i] != 0 {
					t.Fatalf("round trip of %08b gave %08b", have, again)
				}
			}
		}
		if len(parseAlts(v)) > maxAlts {
			t.Fatal("too many alternate locations")
		}
		if off, n, ok := singleRange(v, size); ok && (off < 0 || n < 1 || off+n > size) {
			t.Fatalf("range %d+%d outside %d bytes", off, n, size)
		}
	})
}

// TestScheduleRarestFirst: a partial holder is asked for the chunk fewest
// other sources hold; a whole-file holder for one no partial holder has.
func TestScheduleRarestFirst(t *testing.T) {
	whole := &source{}
	a := &source{have: []byte{0b0111}} // chunks 0, 1, 2
	b := &source{have: []byte{0b0011}} // chunks 0, 1
	c := &source{have: []byte{0b0001}} // chunk 0
	sc := newSchedule(context.Background(), 4, []byte{0}, []*source{whole, a, b, c}, false)
	timeout := func(ctx context.Context) (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }
	now := time.Now()
	take := func(src *source) int {
		t.Helper()
		as, _, _, _ := sc.next(src, now, timeout)
		if as == nil {
			t.Fatal("no assignment")
		}
		return as.chunk
	}
	if got := take(a); got != 2 {
		t.Errorf("a got chunk %d, want 2 (only a holds it)", got)
	}
	if got := take(whole); got != 3 {
		t.Errorf("the whole-file holder got chunk %d, want 3 (no partial holder has it)", got)
	}
	if got := take(b); got != 1 {
		t.Errorf("b got chunk %d, want 1 (held by a and b, chunk 0 by three)", got)
	}
	if got := take(c); got != 0 {
		t.Errorf("c got chunk %d, want 0", got)
	}
	// Nothing pending: a partial holder waits (no probe before probeAt
	// once asked), at most partialInFlight requests each.
	if as, wait, _, _ := sc.next(c, now, timeout); as != nil || wait == nil {
		t.Errorf("c got %v with nothing pending", as)
	}
}

// TestMeshBounds: the mesh keeps at most meshHolders per file and
// meshFiles files, never lists the asker or this node, and forgets
// holders after meshTTL.
func TestMeshBounds(t *testing.T) {
	self := Key{0xff}
	s := NewSwarm(self, time.Second)
	defer s.Close()
	now := time.Now()
	h := content.Hash{1}
	for i := range 2 * meshHolders {
		s.heard(h, Key{byte(i), 1}, now)
	}
	s.heard(h, self, now)
	got := s.holders(h, Key{byte(2*meshHolders - 1), 1}, now)
	if len(got) != maxAlts || got[0] != (Key{byte(2*meshHolders - 2), 1}) {
		t.Errorf("holders: %d, first %x", len(got), got[0])
	}
	if len(s.mesh[h]) != meshHolders {
		t.Errorf("%d holders kept, want %d", len(s.mesh[h]), meshHolders)
	}
	if got := s.holders(h, Key{}, now.Add(meshTTL+time.Second)); len(got) != 0 {
		t.Errorf("%d holders after meshTTL", len(got))
	}
	for i := range 2 * meshFiles {
		s.heard(content.Hash{byte(i), byte(i >> 8), 2}, Key{1}, now.Add(time.Duration(i)))
	}
	if len(s.mesh) > meshFiles {
		t.Errorf("%d files in the mesh, at most %d", len(s.mesh), meshFiles)
	}
}
