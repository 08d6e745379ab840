package query

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"

	"github.com/servent-p2p/servent/storage"
)

// QRP table sizes (log2 of the slot count). The default is 2^18 slots (32
// KiB): tables carry keyword prefixes (AddKeyword), about four times as
// many entries as whole words, and at 2^16 an ultrapeer of 30 leaves of
// 300 files filled 35% of its slots (BenchmarkTableFill).
const (
	DefaultTableBits = 18
	MinTableBits     = 8
	MaxTableBits     = 20
)

// Patch kinds (first byte of a patch).
const (
	patchReset = 0x01 // the bitset replaces the table
	patchXOR   = 0x02 // the bitset is XORed into the table
)

// Table is a QRP keyword table: a bitset of 2^bits slots, a slot set when some
// keyword hashes to it (QRPHash). Slot i is bit 7-(i%8) of byte i/8. The zero
// Table is empty and sizeless; it becomes usable through Apply with a reset
// patch. A Table is not safe for concurrent mutation; the Router only reads
// the tables it is given.
type Table struct {
	bits int
	set  []byte
}

// NewTable returns an empty table of 2^bits slots. It panics when bits is
// outside MinTableBits..MaxTableBits (a programming error).
func NewTable(bits int) *Table {
	if bits < MinTableBits || bits > MaxTableBits {
		panic(fmt.Sprintf("query: table bits %d out of range", bits))
	}
	return &Table{bits: bits, set: make([]byte, 1<<bits/8)}
}

// Bits returns log2 of the slot count (0 for the zero Table).
func (t *Table) Bits() int { return t.bits }

// Add sets the slot of word.
func (t *Table) Add(word string) {
	s := QRPHash(word, t.bits)
	t.set[s>>3] |= 0x80 >> (s & 7)
}

// AddKeyword adds a keyword and every prefix of it that is a prefix query
// word (IsPrefixWord), so that "evac" routes to a table of "evacuation"
// (the matching rule, WordMatch, is prefix matching).
func (t *Table) AddKeyword(keyword string) {
	t.Add(keyword)
	n := 0
	for i := range keyword {
		if n >= MinPrefix {
			t.Add(keyword[:i])
		}
		n++
	}
}

// AddFile adds a shared file: every storage.Keywords word of its
// share-relative path (AddKeyword), and its content URN
// ("urn:blake3:<hex>") as one more keyword so that URN-only queries route
// too.
func (t *Table) AddFile(relPath string, h storage.Hash) {
	for _, w := range storage.Keywords(relPath) {
		t.AddKeyword(w)
	}
	t.Add(h.URN())
}

// Contains reports whether word's slot is set (false positives possible).
func (t *Table) Contains(word string) bool {
	if t.bits == 0 {
		return false
	}
	s := QRPHash(word, t.bits)
	return t.set[s>>3]&(0x80>>(s&7)) != 0
}

// MatchQuery applies the matching rule to the table: the query's URN is
// present, or words (q.Words()) is not empty and every word is present.
func (t *Table) MatchQuery(q *Query, words []string) bool {
	if !q.Hash.IsZero() && t.Contains(q.Hash.URN()) {
		return true
	}
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		if !t.Contains(w) {
			return false
		}
	}
	return true
}

// Merge ORs o into t (an ultrapeer's table covers itself and its leaves).
// Tables of different sizes are an error.
func (t *Table) Merge(o *Table) error {
	if t.bits != o.bits {
		return fmt.Errorf("merge %d-bit into %d-bit table: %w", o.bits, t.bits, ErrBadPatch)
	}
	for i, b := range o.set {
		t.set[i] |= b
	}
	return nil
}

// Clone returns an independent copy.
func (t *Table) Clone() *Table {
	return &Table{bits: t.bits, set: bytes.Clone(t.set)}
}

// Equal reports whether both tables have the same size and slots.
func (t *Table) Equal(o *Table) bool {
	return t.bits == o.bits && bytes.Equal(t.set, o.set)
}

// Count returns the number of set slots.
func (t *Table) Count() int {
	n := 0
	for _, b := range t.set {
		for ; b != 0; b &= b - 1 {
			n++
		}
	}
	return n
}

// Diff encodes the patch that turns old into cur: an XOR patch when both have
// the same size, otherwise (old nil or resized) a reset patch carrying cur.
// Format: kind byte (0x01 reset, 0x02 xor), bits byte, then a zlib stream of
// exactly 2^bits/8 bytes.
func Diff(old, cur *Table) ([]byte, error) {
	if cur == nil || cur.bits == 0 {
		return nil, fmt.Errorf("diff to empty table: %w", ErrBadPatch)
	}
	kind, body := byte(patchReset), cur.set
	if old != nil && old.bits == cur.bits {
		kind = patchXOR
		body = make([]byte, len(cur.set))
		for i := range body {
			body[i] = old.set[i] ^ cur.set[i]
		}
	}
	var buf bytes.Buffer
	buf.Write([]byte{kind, byte(cur.bits)})
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("compress patch: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress patch: %w", err)
	}
	return buf.Bytes(), nil
}

// Apply applies a patch made by Diff. A reset patch replaces the table
// (resizing it); an XOR patch needs a table of the same size. The table is
// unchanged when Apply fails. Decompression stops at the table size, so a
// hostile patch cannot inflate beyond 2^MaxTableBits/8 bytes.
func (t *Table) Apply(patch []byte) error {
	if len(patch) < 2 {
		return fmt.Errorf("patch header: %w", ErrTruncated)
	}
	kind, bits := patch[0], int(patch[1])
	if bits < MinTableBits || bits > MaxTableBits {
		return fmt.Errorf("patch bits %d: %w", bits, ErrBadPatch)
	}
	switch kind {
	case patchReset:
	case patchXOR:
		if t.bits != bits {
			return fmt.Errorf("xor patch for %d bits on %d-bit table: %w", bits, t.bits, ErrBadPatch)
		}
	default:
		return fmt.Errorf("patch kind 0x%02x: %w", kind, ErrBadPatch)
	}
	br := bytes.NewReader(patch[2:])
	zr, err := zlib.NewReader(br)
	if err != nil {
		return fmt.Errorf("patch stream: %w", ErrBadPatch)
	}
	body := make([]byte, 1<<bits/8)
	if _, err := io.ReadFull(zr, body); err != nil {
		return fmt.Errorf("patch body: %w", ErrBadPatch)
	}
	var one [1]byte
	if n, err := zr.Read(one[:]); n != 0 || !errors.Is(err, io.EOF) {
		return fmt.Errorf("patch body longer than table or bad checksum: %w", ErrBadPatch)
	}
	if br.Len() != 0 {
		return fmt.Errorf("patch: %w", ErrTrailing)
	}
	if kind == patchReset {
		t.bits, t.set = bits, body
		return nil
	}
	for i := range body {
		t.set[i] ^= body[i]
	}
	return nil
}
