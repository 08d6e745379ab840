package query

import (
	"bytes"
	"fmt"

	"github.com/servent-p2p/servent/content"
)

// QRP table sizes (log2 of the slot count). The default is 2^18 slots (32
// KiB): tables carry keyword prefixes (AddKeyword), about four times as
// many entries as whole words, and at 2^16 an ultrapeer of 30 leaves of
// 300 files filled 35% of its slots (BenchmarkTableFill).
const (
	DefaultTableBits = 18
	MinTableBits     = 3 // the 8-slot tables of the QRP spec's examples
	MaxTableBits     = 20
)

// Table is a QRP keyword table: a bitset of 2^bits slots, a slot set when some
// keyword hashes to it (QRPHash). Slot i is bit 7-(i%8) of byte i/8. The zero
// Table is empty and sizeless. Tables travel as ROUTE_TABLE_UPDATE messages
// (AppendUpdates, TableReceiver). A Table is not safe for concurrent
// mutation; the Router only reads the tables it is given.
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

// AddFile adds a shared file: every content.Keywords word of its
// share-relative path (AddKeyword), and its content URN
// ("urn:blake3:<hex>") as one more keyword so that URN-only queries route
// too.
func (t *Table) AddFile(relPath string, h content.Hash) {
	for _, w := range content.Keywords(relPath) {
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
