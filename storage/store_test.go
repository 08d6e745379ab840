package storage

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"
)

// quietLogger discards log output in tests.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openTest opens a store in dir (a fresh temporary one if empty) and closes
// it when the test ends.
func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir)
	for _, ro := range []bool{false, true} {
		s, err := Open(dir, Options{ReadOnly: ro, Logger: quietLogger()})
		if err == nil {
			s.Close()
			t.Fatalf("read-only=%v: second open succeeded", ro)
		}
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("read-only=%v: got %v, want ErrLocked", ro, err)
		}
		if want := "another servent is using data dir " + dir; err.Error()[:len(want)] != want {
			t.Fatalf("message %q does not start with %q", err, want)
		}
	}
}

func TestCloseIdempotent(t *testing.T) {
	s, err := Open(t.TempDir(), Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir+"/missing", Options{ReadOnly: true, Logger: quietLogger()}); err == nil {
		t.Fatal("read-only open of a missing dir succeeded")
	}
	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SavePeers([]string{"10.0.0.1:6346"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	ro, err := Open(dir, Options{ReadOnly: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	peers, err := ro.Peers()
	if err != nil || len(peers) != 1 {
		t.Fatalf("peers %v, %v", peers, err)
	}
	if err := ro.SavePeers([]string{"x"}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("write on read-only store: %v", err)
	}
	if _, err := ro.Scan(context.Background(), nil, ScanOptions{}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("scan on read-only store: %v", err)
	}
	// A second reader may share the directory where badger has a
	// read-only mode; on Windows it is refused as locked.
	ro2, err := Open(dir, Options{ReadOnly: true, Logger: quietLogger()})
	if badgerReadOnly && err != nil {
		t.Fatalf("second reader: %v", err)
	}
	if !badgerReadOnly && !errors.Is(err, ErrLocked) {
		t.Fatalf("second reader on %s: got %v, want ErrLocked", runtime.GOOS, err)
	}
	if err == nil {
		ro2.Close()
	}
}

func TestRunGCStops(t *testing.T) {
	s := openTest(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RunGC(ctx, time.Millisecond)
	}()
	for i := range 50 { // give GC rounds something to look at
		if err := s.SavePeers([]string{string(rune('a' + i%26))}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunGC did not return after cancel")
	}
}
