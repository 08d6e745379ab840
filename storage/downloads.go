package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/servent-p2p/servent/content"
)

// ErrChunkRange is returned by MarkVerified for a chunk index outside the file.
var ErrChunkRange = errors.New("chunk index out of range")

// maxPathLen bounds names and paths in a stored download.
const maxPathLen = 64 << 10

// maxDownloadSize bounds a download so its chunk count fits the bitmap
// header (1 PiB).
const maxDownloadSize = 1 << 50

// maxOutboardLen bounds a stored outboard tree (a 1 TiB file needs 2 MiB).
const maxOutboardLen = 1 << 24

// Download is the persistent state of one download in progress.
type Download struct {
	Hash     content.Hash // content hash of the file being fetched
	Size     int64        // file size in bytes
	Name     string       // file name to create in OutDir when complete
	OutDir   string       // destination directory
	PartPath string       // partial file being written
	Outboard []byte       // Bao outboard tree, checked with content.VerifyOutboard
	Verified []byte       // bitmap, bit i (byte i/8, bit i%8) set = chunk i verified
	Started  int64        // unix nanoseconds
}

// IsVerified reports whether chunk i is marked verified.
func (d Download) IsVerified(i int) bool {
	return i >= 0 && i/8 < len(d.Verified) && d.Verified[i/8]&(1<<(i%8)) != 0
}

// VerifiedChunks counts the chunks marked verified.
func (d Download) VerifiedChunks() int {
	n := 0
	for i := range content.NumChunks(d.Size) {
		if d.IsVerified(i) {
			n++
		}
	}
	return n
}

// Complete reports whether every chunk is verified.
func (d Download) Complete() bool { return d.VerifiedChunks() == content.NumChunks(d.Size) }

// The record and its bitmap are stored under two keys so that MarkVerified
// rewrites only the bitmap, never the outboard tree.
func downloadKey(h content.Hash) []byte { return append([]byte{kindDownload}, h[:]...) }
func verifiedKey(h content.Hash) []byte { return append([]byte{kindVerified}, h[:]...) }

// PutDownload stores d, replacing any record with the same hash. Verified is
// resized to one bit per chunk (missing bits are unverified). Safe for
// concurrent use.
func (s *Store) PutDownload(d Download) error {
	if d.Size < 0 || d.Size > maxDownloadSize || len(d.Outboard) > maxOutboardLen || len(d.Name) > maxPathLen ||
		len(d.OutDir) > maxPathLen || len(d.PartPath) > maxPathLen {
		return fmt.Errorf("put download %s: invalid record", d.Hash)
	}
	bits := make([]byte, (content.NumChunks(d.Size)+7)/8)
	copy(bits, d.Verified)
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	err := s.update(func(txn *badger.Txn) error {
		if err := txn.Set(downloadKey(d.Hash), encodeDownload(d)); err != nil {
			return err
		}
		return txn.Set(verifiedKey(d.Hash), encodeBitmap(content.NumChunks(d.Size), bits))
	})
	if err != nil {
		return fmt.Errorf("put download %s: %w", d.Hash, err)
	}
	return nil
}

// GetDownload returns the download of h, or an error wrapping ErrNotFound.
func (s *Store) GetDownload(h content.Hash) (Download, error) {
	var d Download
	err := s.db.View(func(txn *badger.Txn) (err error) {
		d, err = readDownload(txn, h)
		return err
	})
	if err != nil {
		return Download{}, fmt.Errorf("download %s: %w", h, err)
	}
	return d, nil
}

// MarkVerified sets the bit of chunk in h's bitmap in one read-modify-write
// transaction touching only the bitmap. It returns an error wrapping
// ErrNotFound or ErrChunkRange. Safe for concurrent use: calls are
// serialised, so concurrent workers of one download never conflict.
func (s *Store) MarkVerified(h content.Hash, chunk int) error {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	err := s.update(func(txn *badger.Txn) error {
		b, err := getValue(txn, verifiedKey(h))
		if err != nil {
			return err
		}
		chunks, bits, err := decodeBitmap(b)
		if err != nil {
			return err
		}
		if chunk < 0 || chunk >= chunks {
			return ErrChunkRange
		}
		bits[chunk/8] |= 1 << (chunk % 8)
		return txn.Set(verifiedKey(h), b)
	})
	if err != nil {
		return fmt.Errorf("mark chunk %d of %s verified: %w", chunk, h, err)
	}
	return nil
}

// DeleteDownload removes the download state of h; deleting an absent one
// is not an error.
func (s *Store) DeleteDownload(h content.Hash) error {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	err := s.update(func(txn *badger.Txn) error {
		if err := txn.Delete(downloadKey(h)); err != nil {
			return err
		}
		return txn.Delete(verifiedKey(h))
	})
	if err != nil {
		return fmt.Errorf("delete download %s: %w", h, err)
	}
	return nil
}

// Downloads returns every stored download, ordered by hash.
func (s *Store) Downloads() ([]Download, error) {
	var ds []Download
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{kindDownload}})
		var hashes []content.Hash
		for it.Rewind(); it.Valid(); it.Next() {
			if k := it.Item().Key(); len(k) == 1+content.HashSize {
				hashes = append(hashes, content.Hash(k[1:]))
			}
		}
		it.Close()
		for _, h := range hashes {
			d, err := readDownload(txn, h)
			if err != nil {
				return err
			}
			ds = append(ds, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list downloads: %w", err)
	}
	return ds, nil
}

func readDownload(txn *badger.Txn, h content.Hash) (Download, error) {
	b, err := getValue(txn, downloadKey(h))
	if err != nil {
		return Download{}, err
	}
	d, err := decodeDownload(b)
	if err != nil {
		return Download{}, err
	}
	b, err = getValue(txn, verifiedKey(h))
	if err != nil {
		return Download{}, fmt.Errorf("verified bitmap: %w", err)
	}
	chunks, bits, err := decodeBitmap(b)
	if err != nil {
		return Download{}, err
	}
	if chunks != content.NumChunks(d.Size) {
		return Download{}, fmt.Errorf("%w: bitmap of %d chunks for %d bytes", ErrCorrupt, chunks, d.Size)
	}
	d.Hash, d.Verified = h, bits
	return d, nil
}

// encodeBitmap: version, chunk count (u32 BE), then the bits.
func encodeBitmap(chunks int, bits []byte) []byte {
	b := make([]byte, 5, 5+len(bits))
	b[0] = formatV1
	binary.BigEndian.PutUint32(b[1:], uint32(chunks))
	return append(b, bits...)
}

// decodeBitmap returns the chunk count and the bits, which alias b.
func decodeBitmap(b []byte) (int, []byte, error) {
	if len(b) < 5 || b[0] != formatV1 {
		return 0, nil, fmt.Errorf("%w: verified bitmap", ErrCorrupt)
	}
	chunks := int(binary.BigEndian.Uint32(b[1:]))
	if len(b)-5 != (chunks+7)/8 {
		return 0, nil, fmt.Errorf("%w: bitmap length", ErrCorrupt)
	}
	return chunks, b[5:], nil
}

// encodeDownload: version, uvarint size, varint started, then Name, OutDir,
// PartPath and Outboard each as uvarint length + bytes. The hash is the key;
// the bitmap lives under its own key.
func encodeDownload(d Download) []byte {
	b := []byte{formatV1}
	b = binary.AppendUvarint(b, uint64(d.Size))
	b = binary.AppendVarint(b, d.Started)
	for _, f := range [][]byte{[]byte(d.Name), []byte(d.OutDir), []byte(d.PartPath), d.Outboard} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func decodeDownload(b []byte) (Download, error) {
	var d Download
	if len(b) < 1 || b[0] != formatV1 {
		return d, fmt.Errorf("%w: download format", ErrCorrupt)
	}
	b = b[1:]
	size, n := binary.Uvarint(b)
	if n <= 0 || size > maxDownloadSize {
		return d, fmt.Errorf("%w: download size", ErrCorrupt)
	}
	b = b[n:]
	started, n := binary.Varint(b)
	if n <= 0 {
		return d, fmt.Errorf("%w: download start time", ErrCorrupt)
	}
	b = b[n:]
	d.Size, d.Started = int64(size), started
	var fields [4][]byte
	for i, limit := range []int{maxPathLen, maxPathLen, maxPathLen, maxOutboardLen} {
		f, rest, err := readBytes(b, limit)
		if err != nil {
			return Download{}, fmt.Errorf("download: %w", err)
		}
		fields[i], b = f, rest
	}
	if len(b) != 0 {
		return Download{}, fmt.Errorf("%w: %d trailing bytes in download", ErrCorrupt, len(b))
	}
	d.Name, d.OutDir, d.PartPath = string(fields[0]), string(fields[1]), string(fields[2])
	d.Outboard = append([]byte(nil), fields[3]...)
	return d, nil
}
