package storage

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestCloseBoundedWhenDirGone: badger retries a failing memtable flush
// forever; Close must still return, within its timeout, with an error that
// says what happened.
func TestCloseBoundedWhenDirGone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	s, err := Open(dir, Options{Logger: quietLogger(), CloseTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SavePeers([]string{"127.0.0.1:6346"}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		if runtime.GOOS == "windows" {
			s.Close()
			t.Skipf("Windows keeps a data dir with open files from being removed: %v", err)
		}
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Close()
	if !errors.Is(err, ErrCloseTimeout) {
		t.Fatalf("Close with its data dir removed: %v, want ErrCloseTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v with a 300ms timeout", d)
	}
	if again := s.Close(); again != err {
		t.Fatalf("second Close: %v, want the first's error", again)
	}
}
