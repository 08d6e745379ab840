package content

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"

	zeebo "github.com/zeebo/blake3"
	"lukechampine.com/blake3/bao"
)

// Two BLAKE3 implementations sit behind the functions here, each where it
// is the faster or the only one (docs/BENCHMARKS.md, BenchmarkSmallFiles):
// zeebo/blake3 hashes whole inputs of at most one chunk with SIMD even below
// 16 KiB, where lukechampine.com/blake3 falls back to plain Go; a larger file
// needs its Bao outboard tree, the chaining values of each 1 MiB group,
// which only lukechampine.com/blake3/bao computes. Both give the same
// BLAKE3-256 (TestSumMatchesReference).

// Sum returns the content hash of data held in memory: its BLAKE3-256.
func Sum(data []byte) Hash { return Hash(zeebo.Sum256(data)) }

// HashReader reads exactly size bytes from r and returns the content hash
// and the Bao outboard tree (1 MiB groups) that lets any chunk be verified
// on its own.
func HashReader(r io.Reader, size int64) (Hash, []byte, error) {
	if size >= 0 && size <= ChunkSize {
		return hashSmall(r, size)
	}
	buf := &writerAt{b: make([]byte, OutboardSize(size))}
	root, err := bao.Encode(buf, r, size, BaoGroup, true)
	if err != nil {
		return Hash{}, nil, fmt.Errorf("hash: %w", err)
	}
	return Hash(root), buf.b, nil
}

// hashSmall hashes a file of at most one chunk. Its Bao tree has no
// interior nodes: the outboard is just the 8-byte length and the root is
// the plain BLAKE3 hash (Sum). bao.Encode would allocate a whole 1 MiB
// group buffer per call, which dominates a first scan of many small files.
func hashSmall(r io.Reader, size int64) (Hash, []byte, error) {
	pool := &tinyBufs
	if size > tinyBufSize {
		pool = &chunkBufs
	}
	bp := pool.Get().(*[]byte)
	defer pool.Put(bp)
	data := (*bp)[:size]
	if _, err := io.ReadFull(r, data); err != nil {
		return Hash{}, nil, fmt.Errorf("hash: %w", err)
	}
	return Sum(data), lengthOutboard(size), nil
}

// lengthOutboard is the outboard of a file of one chunk: its length alone.
func lengthOutboard(size int64) []byte {
	return binary.LittleEndian.AppendUint64(make([]byte, 0, 8), uint64(size))
}

// The read buffers of hashSmall, pooled by size: one of tinyBufSize for a
// file of up to 64 KiB, one of a chunk for a larger one. A pooled buffer
// stays alive until the second collection after its last use, minutes on
// an idle node, and the collector counts it as live heap: a node sharing
// only small files (notes, documents) would otherwise hold 1 MiB, and let
// the heap grow by half of that again, after each scan.
const tinyBufSize = 64 << 10

var (
	tinyBufs  = sync.Pool{New: func() any { b := make([]byte, tinyBufSize); return &b }}
	chunkBufs = sync.Pool{New: func() any { b := make([]byte, ChunkSize); return &b }}
)

// HashFile hashes the file at path. It returns the size it hashed; callers
// that care whether the file changed meanwhile compare size and mtime
// before and after.
func HashFile(path string) (Hash, []byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return Hash{}, nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Hash{}, nil, 0, err
	}
	h, ob, err := HashReader(f, st.Size())
	return h, ob, st.Size(), err
}

// writerAt is the in-memory destination bao.Encode writes the outboard to.
type writerAt struct{ b []byte }

func (w *writerAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(w.b)) {
		return 0, io.ErrShortWrite
	}
	return copy(w.b[off:], p), nil
}
