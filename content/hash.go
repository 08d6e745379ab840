package content

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"math/bits"

	"lukechampine.com/blake3"
	"lukechampine.com/blake3/bao"
	"lukechampine.com/blake3/guts"
)

// HashSize is the length in bytes of a content hash.
const HashSize = 32

// ChunkSize is the unit of verification: any ChunkSize-aligned range of a
// file can be checked on its own against the file's content hash and its
// outboard tree. It is 1 MiB, which is 2^BaoGroup BLAKE3 chunks of 1 KiB.
const ChunkSize = 1 << 20

// BaoGroup is the Bao chunk-group exponent matching ChunkSize.
const BaoGroup = 10

// URNPrefix is the prefix of a content hash written as a URN (HUGE style).
const URNPrefix = "urn:blake3:"

// ErrBadHash is returned when a string is not a valid content hash.
var ErrBadHash = errors.New("not a content hash")

// Hash is the BLAKE3-256 hash of a file's bytes: the same value `b3sum`
// prints, and the root of the Bao tree that verifies each chunk.
type Hash [HashSize]byte

// String returns the hash as 64 lower-case hex digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// URN returns the hash as "urn:blake3:<hex>".
func (h Hash) URN() string { return URNPrefix + h.String() }

// IsZero reports whether h is the zero value.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText implements encoding.TextMarshaler (hex).
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (hex or URN).
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHash accepts 64 hex digits, optionally prefixed by "urn:blake3:".
func ParseHash(s string) (Hash, error) {
	var h Hash
	s = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), URNPrefix)
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("%w: %q has %d characters, want %d hex digits", ErrBadHash, s, len(s), 2*HashSize)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: %q: %v", ErrBadHash, s, err)
	}
	return h, nil
}

// NumChunks returns how many ChunkSize chunks a file of size bytes has
// (an empty file has one empty chunk).
func NumChunks(size int64) int {
	if size <= 0 {
		return 1
	}
	return int((size + ChunkSize - 1) / ChunkSize)
}

// OutboardSize returns the length of the Bao outboard tree of a file of size bytes.
func OutboardSize(size int64) int { return bao.EncodedSize(int(size), BaoGroup, true) }

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
// the plain BLAKE3 hash. bao.Encode would allocate a whole 1 MiB group
// buffer per call, which dominates a first scan of many small files.
func hashSmall(r io.Reader, size int64) (Hash, []byte, error) {
	bp := smallBufs.Get().(*[]byte)
	defer smallBufs.Put(bp)
	data := (*bp)[:size]
	if _, err := io.ReadFull(r, data); err != nil {
		return Hash{}, nil, fmt.Errorf("hash: %w", err)
	}
	ob := make([]byte, 8)
	binary.LittleEndian.PutUint64(ob, uint64(size))
	return Hash(blake3.Sum256(data)), ob, nil
}

var smallBufs = sync.Pool{New: func() any { b := make([]byte, ChunkSize); return &b }}

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

// VerifyChunk reports whether data is chunk number index of the file whose
// content hash is root and whose Bao outboard tree is outboard. data must be
// the whole chunk (ChunkSize bytes, or the remainder for the last chunk).
func VerifyChunk(root Hash, outboard []byte, index int, data []byte) bool {
	if index < 0 || len(data) > ChunkSize {
		return false
	}
	if len(data) == 0 { // the one chunk of an empty file
		return index == 0 && len(outboard) == 8 && binary.LittleEndian.Uint64(outboard) == 0 && Hash(blake3.Sum256(nil)) == root
	}
	return bao.VerifyChunk(data, outboard, BaoGroup, uint64(index)*ChunkSize, root)
}

// VerifyOutboard reports whether outboard is the Bao tree of a file of the
// given size whose content hash is root. Only the tree's shape and interior
// are checked here; each chunk is checked by VerifyChunk as it arrives.
func VerifyOutboard(root Hash, outboard []byte, size int64) bool {
	if size < 0 || len(outboard) != OutboardSize(size) || binary.LittleEndian.Uint64(outboard) != uint64(size) {
		return false
	}
	const groupSize = uint64(ChunkSize)
	tree := outboard[8:]
	var walk func(cv [8]uint32, n uint64, flags uint32) bool
	walk = func(cv [8]uint32, n uint64, flags uint32) bool {
		if n <= groupSize {
			return true // a leaf: checked against its chunk by VerifyChunk
		}
		l, r := bytesToCV(tree[:32]), bytesToCV(tree[32:64])
		tree = tree[64:]
		if guts.ChainingValue(guts.ParentNode(l, r, &guts.IV, flags)) != cv {
			return false
		}
		mid := uint64(1) << (bits.Len64(n-1) - 1)
		return walk(l, mid, 0) && walk(r, n-mid, 0)
	}
	return walk(bytesToCV(root[:]), uint64(size), guts.FlagRoot)
}

func bytesToCV(b []byte) (cv [8]uint32) {
	for i := range cv {
		cv[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return cv
}

type writerAt struct{ b []byte }

func (w *writerAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(w.b)) {
		return 0, io.ErrShortWrite
	}
	return copy(w.b[off:], p), nil
}
