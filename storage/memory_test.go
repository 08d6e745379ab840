package storage

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// TestOpenOldProfile: a database written with the profile of earlier
// versions (Snappy-compressed tables, block and index caches) opens with
// the small-memory profile and reads back every record, before and after
// its tables are compacted into uncompressed ones.
func TestOpenOldProfile(t *testing.T) {
	dir := t.TempDir()
	old := badger.DefaultOptions(dir).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithValueThreshold(1 << 10).
		WithValueLogFileSize(16 << 20).
		WithCompression(options.Snappy).
		WithBlockCacheSize(8 << 20).
		WithIndexCacheSize(4 << 20).
		WithNumCompactors(2).
		WithLogger(nil)
	db, err := badger.Open(old)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	record := func(i int) (key, value []byte) {
		return fmt.Appendf(nil, "old-%05d", i), fmt.Appendf(nil, "value %d %0300d", i, i)
	}
	wb := db.NewWriteBatch()
	for i := range n {
		k, v := record(i)
		if err := wb.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // flushes the memtable to a compressed table
		t.Fatal(err)
	}
	if tables, _ := filepath.Glob(filepath.Join(dir, "*.sst")); len(tables) == 0 {
		t.Fatal("the old profile wrote no table")
	}

	check := func(s *Store) {
		t.Helper()
		err := s.db.View(func(txn *badger.Txn) error {
			for i := range n {
				k, want := record(i)
				item, err := txn.Get(k)
				if err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
				got, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				if string(got) != string(want) {
					return fmt.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	check(s)
	if err := s.db.Flatten(2); err != nil {
		t.Fatal(err)
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(openTest(t, dir))
}

// TestCompactorKeepsUp: badger's own compactors are off, so the store's
// must compact: 24 MiB written in small transactions (24 memtables, more
// than the 15 level-0 tables at which badger stalls writes) go through
// within a deadline, level 0 ends below badger's compaction trigger, and
// every record reads back.
func TestCompactorKeepsUp(t *testing.T) {
	s := openTest(t, "")
	const (
		perTxn = 100
		txns   = 240
	)
	key := func(i int) []byte { return fmt.Appendf(nil, "compact-%06d", i) }
	value := func(i int) []byte { return fmt.Appendf(nil, "%01000d", i) } // < valueThreshold: in the tree
	done := make(chan error, 1)
	go func() {
		for j := range txns {
			err := s.update(func(txn *badger.Txn) error {
				for i := j * perTxn; i < (j+1)*perTxn; i++ {
					if err := txn.Set(key(i), value(i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("writes stalled; levels: %+v", s.db.Levels())
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.compactionDue() {
		if time.Now().After(deadline) {
			t.Fatalf("still due for compaction: %+v", s.db.Levels())
		}
		s.compactor.wrote()
		time.Sleep(50 * time.Millisecond)
	}
	err := s.db.View(func(txn *badger.Txn) error {
		for i := range perTxn * txns {
			item, err := txn.Get(key(i))
			if err != nil {
				return fmt.Errorf("%s: %w", key(i), err)
			}
			if got, _ := item.ValueCopy(nil); string(got) != string(value(i)) {
				return fmt.Errorf("%s: wrong value", key(i))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
