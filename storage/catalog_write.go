package storage

import (
	"errors"
	"fmt"
	"slices"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/servent-p2p/servent/content"
)

// change is one catalog mutation: a new or updated file with its outboard
// tree, or (del) the removal of the file at Root/Path.
type change struct {
	file     File
	outboard []byte
	del      bool
}

// maxChangesPerTxn bounds one badger transaction; a batch that is still too
// big for badger is halved and retried.
const maxChangesPerTxn = 512

// applyChanges writes changes to the catalog in as few transactions as
// badger allows and returns how many records the deletions removed. Each
// committed transaction bumps the catalog version once. Callers hold scanMu.
func (s *Store) applyChanges(changes []change) (removed int, err error) {
	if s.readOnly {
		return 0, ErrReadOnly
	}
	n := maxChangesPerTxn
	for len(changes) > 0 {
		batch := changes[:min(n, len(changes))]
		r, err := s.applyBatch(batch)
		if errors.Is(err, badger.ErrTxnTooBig) && len(batch) > 1 {
			n = max(1, len(batch)/2)
			continue
		}
		if err != nil {
			return removed, fmt.Errorf("update catalog: %w", err)
		}
		removed += r
		changes = changes[len(batch):]
	}
	return removed, nil
}

func (s *Store) applyBatch(batch []change) (removed int, err error) {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	version, count, err := readMeta(txn)
	if err != nil {
		return 0, err
	}
	for _, c := range batch {
		var delta int
		if c.del {
			delta, err = deleteFile(txn, c.file.Root, c.file.Path)
			removed -= delta
		} else {
			delta, err = putFile(txn, c.file, c.outboard)
		}
		if err != nil {
			return 0, err
		}
		count = uint64(int64(count) + int64(delta))
	}
	if removed == 0 && !slices.ContainsFunc(batch, func(c change) bool { return !c.del }) {
		return 0, nil // nothing changed: keep the version
	}
	version++
	if err := writeMeta(txn, version, count); err != nil {
		return 0, err
	}
	if err := txn.Commit(); err != nil {
		return 0, err
	}
	s.compactor.wrote()
	s.version.Store(version)
	s.count.Store(int64(count))
	return removed, nil
}

// putFile stores f and its outboard, replacing any record at the same
// root and path. It returns the change in file count (0 or 1).
func putFile(txn *badger.Txn, f File, outboard []byte) (int, error) {
	key := fileKey(f.Root, f.Path)
	delta := 1
	old, err := getValue(txn, key)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return 0, err
	default:
		delta = 0
		var prev File
		if err := decodeFileValue(old, &prev); err != nil {
			return 0, err
		}
		if prev.Hash != f.Hash {
			if err := unindexHash(txn, prev.Hash, f.Root, f.Path); err != nil {
				return 0, err
			}
		}
	}
	if err := txn.Set(key, encodeFileValue(f)); err != nil {
		return 0, err
	}
	if err := txn.Set(hashKey(f.Hash, f.Root, f.Path), nil); err != nil {
		return 0, err
	}
	if _, err := getValue(txn, outboardKey(f.Hash)); errors.Is(err, ErrNotFound) {
		err = txn.Set(outboardKey(f.Hash), outboard)
		if err != nil {
			return 0, err
		}
	} else if err != nil {
		return 0, err
	}
	return delta, nil
}

// deleteFile removes the record at root/path, if any, and returns the
// change in file count (0 or -1).
func deleteFile(txn *badger.Txn, root, path string) (int, error) {
	key := fileKey(root, path)
	old, err := getValue(txn, key)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var prev File
	if err := decodeFileValue(old, &prev); err != nil {
		return 0, err
	}
	if err := txn.Delete(key); err != nil {
		return 0, err
	}
	return -1, unindexHash(txn, prev.Hash, root, path)
}

// unindexHash removes the hash -> root/path index entry and drops the
// outboard tree when no other file has that hash.
func unindexHash(txn *badger.Txn, h content.Hash, root, path string) error {
	if err := txn.Delete(hashKey(h, root, path)); err != nil {
		return err
	}
	prefix := append([]byte{kindHash}, h[:]...)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	it.Rewind()
	used := it.Valid()
	it.Close()
	if used {
		return nil
	}
	return txn.Delete(outboardKey(h))
}
