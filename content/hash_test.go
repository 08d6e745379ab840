package content

import (
	"bytes"
	"crypto/rand"
	"slices"
	"testing"

	"lukechampine.com/blake3"
)

func TestHashMatchesPlainBLAKE3(t *testing.T) {
	for _, size := range []int{0, 1, 1023, 1024, 1025, 16<<10 - 1, 16 << 10, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3*ChunkSize + 77} {
		data := make([]byte, size)
		rand.Read(data)
		h, ob, err := HashReader(bytes.NewReader(data), int64(size))
		if err != nil {
			t.Fatal(err)
		}
		if want := blake3.Sum256(data); h != Hash(want) || Sum(data) != Hash(want) {
			t.Fatalf("size %d: hash %s, Sum %s, plain BLAKE3 (lukechampine) %x", size, h, Sum(data), want)
		}
		if !VerifyOutboard(h, ob, int64(size)) {
			t.Fatalf("size %d: own outboard rejected", size)
		}
		for i := range NumChunks(int64(size)) {
			off, n := ChunkSpan(i, int64(size))
			chunk := data[off : off+int64(n)]
			if !VerifyChunk(h, ob, i, chunk) {
				t.Fatalf("size %d: chunk %d rejected", size, i)
			}
			if len(chunk) > 0 {
				bad := slices.Clone(chunk)
				bad[len(bad)/2] ^= 1
				if VerifyChunk(h, ob, i, bad) {
					t.Fatalf("size %d: corrupt chunk %d accepted", size, i)
				}
			}
		}
		if len(ob) > 8 {
			bad := slices.Clone(ob)
			bad[len(bad)-1] ^= 1
			if VerifyOutboard(h, bad, int64(size)) {
				t.Fatalf("size %d: corrupt outboard accepted", size)
			}
		}
	}
}

// TestVerifyChunkWholeFileOnly checks that a chunk is accepted only whole
// and at its own index, for one-chunk and many-chunk files alike.
func TestVerifyChunkWholeFileOnly(t *testing.T) {
	for _, size := range []int{0, 5000, 2*ChunkSize + 10} {
		data := make([]byte, size)
		rand.Read(data)
		h, ob, err := HashReader(bytes.NewReader(data), int64(size))
		if err != nil {
			t.Fatal(err)
		}
		last := NumChunks(int64(size)) - 1
		off, n := ChunkSpan(last, int64(size))
		chunk := data[off : off+int64(n)]
		if !VerifyChunk(h, ob, last, chunk) {
			t.Fatalf("size %d: last chunk rejected", size)
		}
		if n > 0 && VerifyChunk(h, ob, last, chunk[:n-1]) {
			t.Fatalf("size %d: truncated last chunk accepted", size)
		}
		if VerifyChunk(h, ob, last+1, chunk) || VerifyChunk(h, ob, -1, chunk) {
			t.Fatalf("size %d: chunk accepted at another index", size)
		}
	}
}

func TestChunkSpan(t *testing.T) {
	tests := []struct {
		index int
		size  int64
		off   int64
		n     int
	}{
		{0, 0, 0, 0}, {0, 10, 0, 10}, {0, ChunkSize, 0, ChunkSize},
		{1, ChunkSize + 1, ChunkSize, 1}, {2, 3 * ChunkSize, 2 * ChunkSize, ChunkSize}, {3, 3 * ChunkSize, 3 * ChunkSize, 0},
	}
	for _, tt := range tests {
		if off, n := ChunkSpan(tt.index, tt.size); off != tt.off || n != tt.n {
			t.Errorf("ChunkSpan(%d, %d) = %d, %d; want %d, %d", tt.index, tt.size, off, n, tt.off, tt.n)
		}
	}
}

func TestParseHash(t *testing.T) {
	h := Hash(blake3.Sum256([]byte("x")))
	for _, s := range []string{h.String(), h.URN(), " " + h.URN() + "\n"} {
		got, err := ParseHash(s)
		if err != nil || got != h {
			t.Fatalf("ParseHash(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "abc", h.String()[:63] + "z", "urn:sha1:" + h.String()} {
		if _, err := ParseHash(s); err == nil {
			t.Fatalf("ParseHash(%q) accepted", s)
		}
	}
}

// FuzzParseHash: whatever ParseHash accepts spells back, in hex and as a
// URN, to the same hash.
func FuzzParseHash(f *testing.F) {
	h := Sum([]byte("x"))
	for _, s := range []string{h.String(), h.URN(), " URN:BLAKE3:" + h.String() + "\n", "", "abc", "urn:sha1:" + h.String()} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHash(s)
		if err != nil {
			return
		}
		for _, spelt := range []string{h.String(), h.URN()} {
			if back, err := ParseHash(spelt); err != nil || back != h {
				t.Fatalf("ParseHash(%q) = %v, %v; want %v", spelt, back, err, h)
			}
		}
	})
}
