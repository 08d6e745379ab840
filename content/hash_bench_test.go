package content

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"os"
	"slices"
	"sync"
	"testing"

	zeebo "github.com/zeebo/blake3"
	"lukechampine.com/blake3"
)

// benchDataSize is the in-memory input of the hashing benchmarks.
const benchDataSize = 64 << 20

// benchData is benchDataSize random bytes, or the contents of the file
// named by $SERVENT_BENCH_DATA, so that b3sum and sha256sum can be timed on
// the very same bytes (docs/BENCHMARKS.md).
var benchData = sync.OnceValues(func() ([]byte, error) {
	if name := os.Getenv("SERVENT_BENCH_DATA"); name != "" {
		return os.ReadFile(name)
	}
	b := make([]byte, benchDataSize)
	rand.Read(b)
	return b, nil
})

func loadBenchData(b *testing.B) []byte {
	b.Helper()
	data, err := benchData()
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkHash is servent's content hash: BLAKE3 plus the Bao outboard
// tree, as HashReader computes it while scanning.
func BenchmarkHash(b *testing.B) {
	data := loadBenchData(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := HashReader(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBLAKE3Plain is the library's plain BLAKE3 on the same data: the
// cost of the outboard tree is the difference to BenchmarkHash.
func BenchmarkBLAKE3Plain(b *testing.B) {
	data := loadBenchData(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		blake3.Sum256(data)
	}
}

// BenchmarkBLAKE3Zeebo is zeebo/blake3, the independent implementation
// the downloader's whole-file check uses, fed 1 MiB at a time as it is.
func BenchmarkBLAKE3Zeebo(b *testing.B) {
	benchChunked(b, func() hash.Hash { return zeebo.New() })
}

// BenchmarkBLAKE3Chunked is the library's Hasher fed 1 MiB at a time, as
// the whole-file check fed it before it used zeebo/blake3.
func BenchmarkBLAKE3Chunked(b *testing.B) {
	benchChunked(b, func() hash.Hash { return blake3.New(HashSize, nil) })
}

// benchChunked hashes the benchmark data 1 MiB at a time with a fresh
// hasher from newHash per iteration.
func benchChunked(b *testing.B, newHash func() hash.Hash) {
	data := loadBenchData(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		h := newHash()
		for c := range slices.Chunk(data, ChunkSize) {
			h.Write(c)
		}
		h.Sum(nil)
	}
}

// BenchmarkSHA256 is the baseline: crypto/sha256 on the same data.
func BenchmarkSHA256(b *testing.B) {
	data := loadBenchData(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		sha256.Sum256(data)
	}
}
