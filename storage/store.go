package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// ErrLocked is returned (wrapped) by Open when another process, normally
// another servent, holds the database directory.
var ErrLocked = errors.New("data dir locked")

// ErrNotFound is returned when a requested record does not exist.
var ErrNotFound = errors.New("not found")

// ErrReadOnly is returned by methods that write when the store was opened
// with Options.ReadOnly.
var ErrReadOnly = errors.New("store is read-only")

// ErrCloseTimeout is returned (wrapped) by Close when badger has not
// finished writing within Options.CloseTimeout: it retries a failing
// memtable flush forever, so a data dir that was removed, or a disk that
// fails, would otherwise keep the process from ever ending.
var ErrCloseTimeout = errors.New("the database did not finish writing in time: is the data dir's disk gone or failing? Changes since its last flush may be lost (the next start rescans the shares)")

// DefaultCloseTimeout bounds Close when Options.CloseTimeout is 0. A
// healthy disk flushes the 8 MiB memtables in well under a second.
const DefaultCloseTimeout = 10 * time.Second

// Options tunes Open.
type Options struct {
	// ReadOnly opens the database without write access, for tools such as
	// `servent shares` that run without the daemon. badger takes a shared
	// lock in this mode, so it fails with ErrLocked while a daemon holds
	// the directory (and a daemon cannot start while a reader is open). The
	// directory must already hold a database.
	ReadOnly bool
	// Logger receives the store's and badger's warnings; nil means
	// slog.Default().
	Logger *slog.Logger
	// CloseTimeout bounds Close (0: DefaultCloseTimeout).
	CloseTimeout time.Duration
}

// Store is servent's on-disk state. All methods are safe for concurrent use;
// Scan and Watch serialise among themselves.
type Store struct {
	db       *badger.DB
	dir      string
	readOnly bool
	log      *slog.Logger

	scanMu  sync.Mutex // one scan at a time
	idMu    sync.Mutex // serialises identity creation
	dlMu    sync.Mutex // serialises download-state writes
	version atomic.Uint64
	count   atomic.Int64

	compactor *compactor // nil when read-only

	closeOnce    sync.Once
	closeErr     error
	closeTimeout time.Duration

	hashHook func(path string) // test hook: called before each file is hashed
}

// Open opens (creating if needed, unless read-only) the badger database in
// dir with the small-memory profile of memory.go and, unless read-only,
// starts the store's compactor (compact.go). badger's own logging goes to
// the logger at warn level and above. When another process holds dir, the
// error wraps ErrLocked and reads "another servent is using data dir DIR".
func Open(dir string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "storage")
	if opts.ReadOnly && !badgerReadOnly {
		// Without badger's read-only mode a missing store would be created:
		// refuse it as badger's read-only open does.
		if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
			return nil, fmt.Errorf("open store %s: %w", dir, err)
		}
	}
	bo := smallMemory(badger.DefaultOptions(dir)).
		WithReadOnly(opts.ReadOnly && badgerReadOnly).
		WithLogger(badgerLogger{log: log.With("component", "badger")})
	db, err := badger.Open(bo)
	if err != nil {
		// badger says so in the same words on every platform.
		if strings.Contains(err.Error(), "Another process is using this Badger database") {
			return nil, fmt.Errorf("another servent is using data dir %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s := &Store{db: db, dir: dir, readOnly: opts.ReadOnly, log: log, closeTimeout: opts.CloseTimeout}
	if s.closeTimeout <= 0 {
		s.closeTimeout = DefaultCloseTimeout
	}
	if err := s.loadMeta(); err != nil {
		db.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		s.compactor = newCompactor()
		go s.runCompactor(s.compactor)
		s.compactor.wrote() // a tree left due by the last run
	}
	return s, nil
}

// Dir returns the directory the store was opened in.
func (s *Store) Dir() string { return s.dir }

// Close closes the database. It is idempotent; later calls return the
// first call's result. Stop Watch and RunGC (cancel their context) first.
// It blocks at most Options.CloseTimeout: when badger cannot write its
// last changes by then, Close returns an error wrapping ErrCloseTimeout.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		done := make(chan error, 1)
		go func() {
			s.compactor.close()
			done <- s.db.Close()
		}()
		select {
		case err := <-done:
			if err != nil {
				s.closeErr = fmt.Errorf("close store: %w", err)
			}
		case <-time.After(s.closeTimeout):
			// badger's goroutines keep retrying; the process is about to
			// end, and nothing else can stop them.
			s.closeErr = fmt.Errorf("close store %s after %v: %w", s.dir, s.closeTimeout, ErrCloseTimeout)
		}
	})
	return s.closeErr
}

// RunGC runs badger's value-log garbage collection every interval until ctx
// is done. It blocks; run it in its own goroutine. It returns at once on a
// read-only store or when interval is not positive.
func (s *Store) RunGC(ctx context.Context, interval time.Duration) {
	if s.readOnly || interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Each successful round rewrites one value-log file; keep going
		// while there is garbage, bounded so one tick cannot run forever.
		for range 16 {
			err := s.db.RunValueLogGC(0.5)
			if err == nil {
				continue
			}
			if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
				s.log.Warn("value log gc", "err", err)
			}
			break
		}
	}
}

// update runs fn in a read-write transaction.
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := s.db.Update(fn); err != nil {
		return err
	}
	s.compactor.wrote()
	return nil
}

// getValue copies the value of key, or returns ErrNotFound.
func getValue(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// badgerLogger routes badger's logging to slog, dropping info and debug.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

var _ badger.Logger = badgerLogger{}
