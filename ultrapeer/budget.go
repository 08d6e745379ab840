package ultrapeer

import "math"

// Budget bounds what one leaf can make an ultrapeer hold. An update is
// applied in the order of its entries (the entries already held first) until
// the next entry would exceed the budget; the rest are left out and counted
// (Ack.Dropped), so a library too big for the budget is searchable in part
// rather than not at all.
//
// The charged bytes model the heap of the per-owner index (ownerIndex):
//
//	per entry:            EntryCost + len(path)
//	per keyword of entry: KeywordCost (its id and its posting)
//	per distinct word:    WordCost + len(word)
//
// Measured (TestRegistryHeapWithinBudget, docs/ARCHITECTURE.md): the heap an
// owner's index holds stays within HeapMultiple times its charged bytes.
type Budget struct {
	// Bytes bounds the charged bytes of one owner's index.
	Bytes int64
	// Keywords bounds the keywords of one owner's index, counted once per
	// entry that has them.
	Keywords int
	// EntryKeywords bounds the keywords kept per entry (the first ones of
	// its normalised list); the others are left out of the index.
	EntryKeywords int
}

// Cost model constants (bytes), and the bound the tests hold the model to.
const (
	EntryCost   = 96
	KeywordCost = 8
	WordCost    = 24
	// HeapMultiple: an owner's index never holds more than this many times
	// its charged bytes on the heap (after GC), whatever its entries are.
	HeapMultiple = 2
)

// DefaultBudget is the budget of every leaf: 48 MiB charged (a library of
// about 150,000 files with 60-byte paths), 4 Mi keywords, 128 keywords per
// entry.
func DefaultBudget() Budget {
	return Budget{Bytes: 48 << 20, Keywords: 4 << 20, EntryKeywords: 128}
}

// unlimited is the budget of the ultrapeer's own shares.
var unlimited = Budget{Bytes: math.MaxInt64, Keywords: math.MaxInt, EntryKeywords: MaxKeywords}
