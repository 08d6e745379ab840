package transfer

import (
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/storage"
)

// File is a catalog entry: Root is the share root the file must stay
// inside, Path is share-relative and slash-separated (an absolute Path is
// also accepted), ModTime is in Unix nanoseconds.
type File = storage.File

// Catalog finds a shared file and its Bao outboard tree by content hash.
// Lookup returns an error (storage.ErrNotFound or any other) when the hash
// is not shared; the server answers 404 for every error. Implementations
// must be safe for concurrent use. *storage.Store implements it.
type Catalog interface {
	Lookup(h content.Hash) (File, []byte, error)
}

// Download is the persisted state of one download, keyed by Hash. Verified
// is a bitmap of verified chunks: chunk i is bit i%8 of byte i/8. Started
// is in Unix nanoseconds.
type Download = storage.Download

// State persists download state so an interrupted download resumes
// without re-fetching verified chunks. GetDownload returns an error when
// there is no state for h; the downloader then starts afresh.
// Implementations must be safe for concurrent use. *storage.Store
// implements it.
type State interface {
	PutDownload(d Download) error
	GetDownload(h content.Hash) (Download, error)
	MarkVerified(h content.Hash, chunk int) error
	DeleteDownload(h content.Hash) error
}

// bitSet reports whether bit i of the bitmap b is set.
func bitSet(b []byte, i int) bool { return i/8 < len(b) && b[i/8]&(1<<(i%8)) != 0 }

// setBit sets bit i of b, which must be long enough.
func setBit(b []byte, i int) { b[i/8] |= 1 << (i % 8) }

// clearBit clears bit i of b, which must be long enough.
func clearBit(b []byte, i int) { b[i/8] &^= 1 << (i % 8) }
