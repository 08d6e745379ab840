package storage

import (
	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// badger's memory, sized for a servent that mostly idles with a catalog
// of thousands of files, not for a database server (badger's defaults hold
// about 750 MB under load).
const (
	// memTableSize: badger allocates each memtable's arena (about 1.3x
	// this) as one Go slice when it opens the memtable. The pages are only
	// touched as they fill, but the garbage collector counts the whole
	// slice as live heap and lets the heap grow by as much again before it
	// collects: 8 MiB memtables cost an idle node of a network of 100 about
	// 8 MB of anonymous memory.
	// A transaction is limited to 15 % of it (about 150 KiB, 1,600
	// entries); catalog writes split larger batches (applyChanges).
	memTableSize = 1 << 20
	// numMemtables: one being written, one being flushed.
	numMemtables = 2
	// valueThreshold: larger values (outboard trees, the peer cache) go to
	// the value log. It must stay below 15 % of memTableSize or Open fails.
	valueThreshold = 1 << 10
	// valueLogFileSize bounds one value-log file (memory-mapped, twice
	// this reserved, touched as written).
	valueLogFileSize = 16 << 20
	// No block compression, hence no block cache (badger requires one
	// only to keep decompressed blocks), and no index cache: tables and
	// their indexes are then read in place from the memory-mapped files,
	// page cache the kernel can reclaim, instead of being copied into two
	// Go caches that cost about 0.7 MB of heap and a goroutine each even
	// when empty. Tables written compressed by an earlier version stay
	// readable: badger records each table's compression in its manifest.
	compression    = options.None
	blockCacheSize = 0
	indexCacheSize = 0
	// numCompactors: none of badger's own; the store's compactor
	// (compact.go) runs them.
	numCompactors = 0
)

// smallMemory applies servent's small-memory profile to o.
func smallMemory(o badger.Options) badger.Options {
	return o.
		WithMemTableSize(memTableSize).
		WithNumMemtables(numMemtables).
		WithValueThreshold(valueThreshold).
		WithValueLogFileSize(valueLogFileSize).
		WithCompression(compression).
		WithBlockCacheSize(blockCacheSize).
		WithIndexCacheSize(indexCacheSize).
		WithNumCompactors(numCompactors)
}
