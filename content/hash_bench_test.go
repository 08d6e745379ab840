package content

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

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

// BenchmarkBLAKE3Zeebo is zeebo/blake3 (the implementation Sum and the
// files of one chunk use) fed 1 MiB at a time.
func BenchmarkBLAKE3Zeebo(b *testing.B) {
	benchChunked(b, func() hash.Hash { return zeebo.New() })
}

// BenchmarkBLAKE3Chunked is lukechampine.com/blake3's Hasher fed 1 MiB at
// a time.
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

// BenchmarkSmallFiles hashes files of one chunk or less as the scanner does
// (HashReader) and, interleaved in the same loop, the way HashReader did
// before it used zeebo/blake3 for them: the same pooled read and
// lukechampine.com/blake3's Sum256. It reports the ratio baseline time /
// HashReader time ("speedup"); ns/op is both together.
func BenchmarkSmallFiles(b *testing.B) {
	for _, size := range []int{1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, ChunkSize} {
		data := make([]byte, size)
		rand.Read(data)
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			var ours, base time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, _, err := HashReader(bytes.NewReader(data), int64(size)); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				lukeSmall(b, bytes.NewReader(data), size)
				ours, base = ours+t1.Sub(t0), base+time.Since(t1)
			}
			b.ReportMetric(float64(base)/float64(ours), "speedup")
			b.ReportMetric(float64(size)*float64(b.N)/ours.Seconds()/1e6, "HashReader_MB/s")
		})
	}
}

// lukeSmall is the former small-file path: a pooled read, then
// lukechampine.com/blake3's Sum256.
func lukeSmall(b *testing.B, r io.Reader, size int) Hash {
	bp := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(bp)
	if _, err := io.ReadFull(r, (*bp)[:size]); err != nil {
		b.Fatal(err)
	}
	return Hash(blake3.Sum256((*bp)[:size]))
}
