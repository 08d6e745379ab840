package content

import (
	"bytes"
	"crypto/rand"
	"slices"
	"testing"

	"lukechampine.com/blake3"
)

func TestHashMatchesPlainBLAKE3(t *testing.T) {
	for _, size := range []int{0, 1, 1023, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3*ChunkSize + 77} {
		data := make([]byte, size)
		rand.Read(data)
		h, ob, err := HashReader(bytes.NewReader(data), int64(size))
		if err != nil {
			t.Fatal(err)
		}
		if want := blake3.Sum256(data); h != Hash(want) {
			t.Fatalf("size %d: hash %s, plain BLAKE3 %x", size, h, want)
		}
		if !VerifyOutboard(h, ob, int64(size)) {
			t.Fatalf("size %d: own outboard rejected", size)
		}
		for i := range NumChunks(int64(size)) {
			chunk := data[i*ChunkSize : min(size, (i+1)*ChunkSize)]
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
