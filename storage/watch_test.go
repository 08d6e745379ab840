package storage

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/servent-p2p/servent/internal/testutil"
)

// eventually is the shared testutil.Eventually.
var eventually = testutil.Eventually

func TestWatch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration // long: only fsnotify can explain a prompt rescan
	}{
		{"events", time.Hour},
		{"periodic", 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			share := t.TempDir()
			writeFile(t, filepath.Join(share, "a.txt"), "a")
			s := openTest(t, "")
			var mu sync.Mutex
			var changes []ScanStats
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.Watch(ctx, []string{share}, ScanOptions{Logger: quietLogger()}, tc.interval, nil, func(st ScanStats) {
					mu.Lock()
					changes = append(changes, st)
					mu.Unlock()
				})
			}()
			t.Cleanup(func() {
				cancel()
				<-done
			})
			eventually(t, 10*time.Second, "initial scan", func() bool { return s.Count() == 1 })

			// A file in a directory created after the watch started.
			writeFile(t, filepath.Join(share, "new", "b.txt"), "b")
			eventually(t, 10*time.Second, "new file indexed", func() bool { return s.Count() == 2 })
			if tc.name == "events" {
				writeFile(t, filepath.Join(share, "new", "c.txt"), "c") // watched since the last rescan
				eventually(t, 10*time.Second, "file in new dir indexed", func() bool { return s.Count() == 3 })
			}
			if err := os.Remove(filepath.Join(share, "a.txt")); err != nil {
				t.Fatal(err)
			}
			eventually(t, 10*time.Second, "removal noticed", func() bool { return !hasPath(t, s, "a.txt") })
			mu.Lock()
			n := len(changes)
			mu.Unlock()
			if n < 3 {
				t.Fatalf("onChange called %d times, want at least 3", n)
			}
		})
	}
}

func hasPath(t *testing.T, s *Store, path string) bool {
	t.Helper()
	_, ok := paths(t, s)[path]
	return ok
}

// TestWatchTrigger changes a file through a hard link outside the share,
// which produces no event under the share, so only the trigger can explain
// the rescan (the periodic one is an hour away).
func TestWatchTrigger(t *testing.T) {
	share, outside := t.TempDir(), t.TempDir()
	path := filepath.Join(share, "a.txt")
	writeFile(t, path, "old")
	link := filepath.Join(outside, "a.txt")
	if err := os.Link(path, link); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, "")
	trigger := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Watch(ctx, []string{share}, ScanOptions{Logger: quietLogger()}, time.Hour, trigger, nil)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	eventually(t, 10*time.Second, "initial scan", func() bool { return s.Count() == 1 })
	old := paths(t, s)["a.txt"].Hash

	if err := os.WriteFile(link, []byte("new content"), 0o644); err != nil {
		t.Fatal(err)
	}
	trigger <- struct{}{}
	eventually(t, 10*time.Second, "triggered rescan", func() bool { return paths(t, s)["a.txt"].Hash != old })
}
