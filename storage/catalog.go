package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/servent-p2p/servent/content"
)

// Key kinds; see doc.go for the layout.
const (
	kindMeta     = 'm'
	kindFile     = 'f'
	kindHash     = 'h'
	kindOutboard = 'o'
	kindIdentity = 'i'
	kindPeers    = 'p'
	kindDownload = 'd'
	kindVerified = 'v'
)

// formatV1 is the first byte of every value written by this version.
const formatV1 = 1

// ErrCorrupt is returned when a stored value cannot be decoded.
var ErrCorrupt = errors.New("corrupt record")

var metaKey = []byte{kindMeta, 'c', 'a', 't', 'a', 'l', 'o', 'g'}

// File is one shared file in the catalog.
type File struct {
	Root     string       // absolute share root, as configured
	Path     string       // share-relative, slash-separated
	Size     int64        // bytes
	ModTime  int64        // modification time, unix nanoseconds
	Hash     content.Hash // BLAKE3-256 of the content
	Keywords []string     // content.Keywords(Path); derived, not stored
}

func fileKey(root, path string) []byte {
	k := make([]byte, 0, 2+len(root)+len(path))
	k = append(k, kindFile)
	k = append(k, root...)
	k = append(k, 0)
	return append(k, path...)
}

func hashKey(h content.Hash, root, path string) []byte {
	k := make([]byte, 0, 2+content.HashSize+len(root)+len(path))
	k = append(k, kindHash)
	k = append(k, h[:]...)
	k = append(k, root...)
	k = append(k, 0)
	return append(k, path...)
}

func outboardKey(h content.Hash) []byte { return append([]byte{kindOutboard}, h[:]...) }

// splitRootPath splits "root 0x00 path" (a key without its prefix).
func splitRootPath(b []byte) (root, path string, err error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", "", fmt.Errorf("%w: key without separator", ErrCorrupt)
	}
	return string(b[:i]), string(b[i+1:]), nil
}

// encodeFileValue encodes size, mtime and hash: version, uvarint size,
// varint mtime, 32-byte hash.
func encodeFileValue(f File) []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+content.HashSize)
	b = append(b, formatV1)
	b = binary.AppendUvarint(b, uint64(f.Size))
	b = binary.AppendVarint(b, f.ModTime)
	return append(b, f.Hash[:]...)
}

// decodeFileValue fills f's Size, ModTime and Hash from a stored value.
func decodeFileValue(b []byte, f *File) error {
	if len(b) < 1 || b[0] != formatV1 {
		return fmt.Errorf("%w: file record format", ErrCorrupt)
	}
	b = b[1:]
	size, n := binary.Uvarint(b)
	if n <= 0 || size > 1<<62 {
		return fmt.Errorf("%w: file size", ErrCorrupt)
	}
	b = b[n:]
	mtime, n := binary.Varint(b)
	if n <= 0 {
		return fmt.Errorf("%w: file mtime", ErrCorrupt)
	}
	b = b[n:]
	if len(b) != content.HashSize {
		return fmt.Errorf("%w: file hash length %d", ErrCorrupt, len(b))
	}
	f.Size, f.ModTime = int64(size), mtime
	copy(f.Hash[:], b)
	return nil
}

// decodeFile builds a File from an 'f' key and its value.
func decodeFile(key, val []byte) (File, error) {
	var f File
	root, path, err := splitRootPath(key[1:])
	if err != nil {
		return f, err
	}
	f.Root, f.Path = root, path
	if err := decodeFileValue(val, &f); err != nil {
		return f, fmt.Errorf("%s/%s: %w", root, path, err)
	}
	f.Keywords = content.Keywords(path)
	return f, nil
}

// Version returns the catalog version: it increases with every change to
// the catalog (persisted, never decreasing). Safe for concurrent use.
func (s *Store) Version() uint64 { return s.version.Load() }

// Count returns the number of files in the catalog. Safe for concurrent use.
func (s *Store) Count() int { return int(s.count.Load()) }

func (s *Store) loadMeta() error {
	return s.db.View(func(txn *badger.Txn) error {
		v, c, err := readMeta(txn)
		s.version.Store(v)
		s.count.Store(int64(c))
		return err
	})
}

func readMeta(txn *badger.Txn) (version, count uint64, err error) {
	b, err := getValue(txn, metaKey)
	if errors.Is(err, ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("read catalog meta: %w", err)
	}
	if len(b) != 17 || b[0] != formatV1 {
		return 0, 0, fmt.Errorf("%w: catalog meta", ErrCorrupt)
	}
	return binary.BigEndian.Uint64(b[1:]), binary.BigEndian.Uint64(b[9:]), nil
}

func writeMeta(txn *badger.Txn, version, count uint64) error {
	b := make([]byte, 17)
	b[0] = formatV1
	binary.BigEndian.PutUint64(b[1:], version)
	binary.BigEndian.PutUint64(b[9:], count)
	return txn.Set(metaKey, b)
}

// Files returns every catalog entry sorted by root, then path. Safe for
// concurrent use; it reads one consistent snapshot.
func (s *Store) Files() ([]File, error) {
	var files []File
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 256, Prefix: []byte{kindFile}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			val, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			f, err := decodeFile(item.Key(), val)
			if err != nil {
				return err
			}
			files = append(files, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	return files, nil
}

// FileByHash returns one catalog file with content hash h (the first by
// root and path when several share it), or an error wrapping ErrNotFound.
// It costs one seek and one read.
func (s *Store) FileByHash(h content.Hash) (File, error) {
	var f File
	err := s.db.View(func(txn *badger.Txn) (err error) {
		f, err = fileByHash(txn, h)
		return err
	})
	return f, err
}

func fileByHash(txn *badger.Txn, h content.Hash) (File, error) {
	prefix := append([]byte{kindHash}, h[:]...)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	it.Rewind()
	if !it.Valid() {
		it.Close()
		return File{}, fmt.Errorf("file %s: %w", h, ErrNotFound)
	}
	root, path, err := splitRootPath(it.Item().KeyCopy(nil)[len(prefix):])
	it.Close()
	if err != nil {
		return File{}, err
	}
	key := fileKey(root, path)
	val, err := getValue(txn, key)
	if err != nil {
		return File{}, fmt.Errorf("file %s: %w", h, err)
	}
	return decodeFile(key, val)
}

// Outboard returns the Bao outboard tree of content hash h, or an error
// wrapping ErrNotFound.
func (s *Store) Outboard(h content.Hash) ([]byte, error) {
	var ob []byte
	err := s.db.View(func(txn *badger.Txn) (err error) {
		ob, err = getValue(txn, outboardKey(h))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("outboard %s: %w", h, err)
	}
	return ob, nil
}

// Lookup returns a catalog file with content hash h and its outboard tree,
// read in one snapshot, for the transfer plane. The error wraps ErrNotFound
// when no shared file has that hash. Call Check or OpenFile before serving.
func (s *Store) Lookup(h content.Hash) (File, []byte, error) {
	var f File
	var ob []byte
	err := s.db.View(func(txn *badger.Txn) (err error) {
		if f, err = fileByHash(txn, h); err != nil {
			return err
		}
		if ob, err = getValue(txn, outboardKey(h)); err != nil {
			return fmt.Errorf("outboard %s: %w", h, err)
		}
		return nil
	})
	return f, ob, err
}
