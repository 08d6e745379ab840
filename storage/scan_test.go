package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lukechampine.com/blake3"

	"github.com/servent-p2p/servent/content"
)

// writeFile creates path (and its parents) with content.
func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeTree creates n small distinct files in directories of 100 under
// dir, a directory per goroutine (file creation dominates on slow disks).
func writeTree(t testing.TB, dir string, n int) {
	t.Helper()
	dirs := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for d := range dirs {
				sub := filepath.Join(dir, fmt.Sprintf("d%03d", d))
				err := os.MkdirAll(sub, 0o755)
				for i := d * 100; i < min(n, (d+1)*100) && err == nil; i++ {
					err = os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%06d.txt", i)), fmt.Appendf(nil, "file %d\n", i), 0o644)
				}
				if err != nil {
					t.Error(err) // not Fatal: this is not the test goroutine
				}
			}
		})
	}
	for d := range (n + 99) / 100 {
		dirs <- d
	}
	close(dirs)
	wg.Wait()
}

// countHashes installs a hook counting files read for hashing.
func countHashes(s *Store) *atomic.Int64 {
	var n atomic.Int64
	s.hashHook = func(string) { n.Add(1) }
	return &n
}

func scan(t *testing.T, s *Store, roots []string, opts ScanOptions) ScanStats {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	st, err := s.Scan(context.Background(), roots, opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// paths returns "root|path" of every catalog file.
func paths(t *testing.T, s *Store) map[string]File {
	t.Helper()
	files, err := s.Files()
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]File)
	for _, f := range files {
		m[f.Path] = f
	}
	return m
}

func TestRescanUnchangedTreeHashesNothing(t *testing.T) {
	const n = 10000
	share := t.TempDir()
	writeTree(t, share, n)
	s := openTest(t, "")
	hashes := countHashes(s)

	st := scan(t, s, []string{share}, ScanOptions{})
	if st.Hashed != n || st.Files != n || hashes.Load() != n || s.Count() != n {
		t.Fatalf("first scan: %+v, %d hashes, count %d", st, hashes.Load(), s.Count())
	}
	version := s.Version()

	hashes.Store(0)
	st = scan(t, s, []string{share}, ScanOptions{})
	if st.Hashed != 0 || hashes.Load() != 0 || st.Bytes != 0 {
		t.Fatalf("rescan of unchanged tree hashed %d files (stats %+v)", hashes.Load(), st)
	}
	if st.Unchanged != n || st.Files != n || st.Removed != 0 || st.Changed() {
		t.Fatalf("rescan stats %+v", st)
	}
	if s.Version() != version {
		t.Fatalf("version moved from %d to %d without a change", version, s.Version())
	}
}

func TestScanChangesAndRemovals(t *testing.T) {
	share := t.TempDir()
	writeFile(t, filepath.Join(share, "keep.txt"), "keep")
	writeFile(t, filepath.Join(share, "edit.txt"), "before")
	writeFile(t, filepath.Join(share, "sub", "gone.txt"), "gone")
	s := openTest(t, "")
	hashes := countHashes(s)
	scan(t, s, []string{share}, ScanOptions{Workers: 2})

	writeFile(t, filepath.Join(share, "edit.txt"), "after, longer")
	if err := os.RemoveAll(filepath.Join(share, "sub")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(share, "new.txt"), "new")
	hashes.Store(0)
	v := s.Version()
	st := scan(t, s, []string{share}, ScanOptions{Workers: 2})
	if st.Hashed != 2 || st.Unchanged != 1 || st.Removed != 1 || hashes.Load() != 2 {
		t.Fatalf("stats %+v, %d hashes", st, hashes.Load())
	}
	if s.Version() <= v {
		t.Fatal("version not bumped by a change")
	}
	files := paths(t, s)
	if _, ok := files["sub/gone.txt"]; ok {
		t.Fatal("removed file still listed")
	}
	edit := files["edit.txt"]
	if edit.Hash != content.Hash(blake3.Sum256([]byte("after, longer"))) || edit.Size != 13 {
		t.Fatalf("edited file: %+v", edit)
	}
	if edit.Root != share {
		t.Fatalf("root %q, want %q", edit.Root, share)
	}

	// A root no longer configured loses its files.
	st = scan(t, s, nil, ScanOptions{})
	if st.Removed != 3 || s.Count() != 0 {
		t.Fatalf("unshared root: %+v, count %d", st, s.Count())
	}
}

func TestScanRefusals(t *testing.T) {
	base := t.TempDir()
	share := filepath.Join(base, "share")
	outside := filepath.Join(base, "outside")
	data := filepath.Join(share, ".servent")
	writeFile(t, filepath.Join(share, "ok.txt"), "ok")
	writeFile(t, filepath.Join(outside, "secret.txt"), "secret")
	writeFile(t, filepath.Join(data, "db.vlog"), "data dir")
	writeFile(t, filepath.Join(share, "sub", "inner.txt"), "inner")
	links := map[string]string{
		"escape.txt":   filepath.Join(outside, "secret.txt"),
		"relative.txt": "../outside/secret.txt",
		"outdir":       outside,
		"inside.txt":   filepath.Join(share, "sub", "inner.txt"),
		"subdir":       "sub",
		"intodata":     filepath.Join(data, "db.vlog"),
		"dangling":     filepath.Join(share, "nope"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(share, name)); err != nil {
			t.Fatal(err)
		}
	}
	mkfifo(t, filepath.Join(share, "fifo"))

	s := openTest(t, "")
	st := scan(t, s, []string{share}, ScanOptions{Exclude: []string{data}})
	files := paths(t, s)
	for _, want := range []string{"ok.txt", "sub/inner.txt", "inside.txt"} {
		if _, ok := files[want]; !ok {
			t.Errorf("%s not indexed", want)
		}
	}
	if len(files) != 3 {
		t.Errorf("indexed %d files, want 3: %v", len(files), files)
	}
	// escape, relative, outdir, subdir (symlinked dirs are not followed),
	// intodata, dangling, fifo.
	if st.Skipped != 7 {
		t.Errorf("skipped %d, want 7", st.Skipped)
	}
	if files["inside.txt"].Hash != content.Hash(blake3.Sum256([]byte("inner"))) {
		t.Error("symlink inside the share not hashed from its target")
	}
}

func TestScanExcludesDataDir(t *testing.T) {
	share := t.TempDir()
	writeFile(t, filepath.Join(share, "music.ogg"), "la la")
	data := filepath.Join(share, ".servent") // the daemon's own store, inside the share
	s := openTest(t, data)
	if err := s.SavePeers([]string{"10.0.0.1:6346"}); err != nil { // make badger write files
		t.Fatal(err)
	}
	for range 2 { // the second scan sees the files badger wrote during the first
		st := scan(t, s, []string{share}, ScanOptions{Exclude: []string{data}})
		if st.Files != 1 || s.Count() != 1 {
			t.Fatalf("stats %+v, files %v", st, paths(t, s))
		}
	}
}

func TestScanSymlinkedRoot(t *testing.T) {
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "real", "a.txt"), "a")
	link := filepath.Join(base, "link")
	if err := os.Symlink(filepath.Join(base, "real"), link); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Skipf("no symbolic links here (Windows without the privilege, Wine): %v", err)
	}
	s := openTest(t, "")
	scan(t, s, []string{link}, ScanOptions{})
	f, ok := paths(t, s)["a.txt"]
	if !ok || f.Root != link {
		t.Fatalf("files under a symlinked root: %+v", paths(t, s))
	}
}

func TestScanUnreadableFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows denies reads with ACLs, not mode bits")
	}
	if os.Geteuid() == 0 {
		t.Skip("root reads mode-000 files; the FIFO case in TestScanRefusals covers unreadable entries")
	}
	share := t.TempDir()
	writeFile(t, filepath.Join(share, "ok.txt"), "ok")
	locked := filepath.Join(share, "locked.txt")
	writeFile(t, locked, "locked")
	s := openTest(t, "")
	scan(t, s, []string{share}, ScanOptions{})
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	// Touch it so the rescan tries to read it again.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(locked, later, later); err != nil {
		t.Fatal(err)
	}
	st := scan(t, s, []string{share}, ScanOptions{})
	if st.Skipped != 1 || st.Removed != 1 || s.Count() != 1 {
		t.Fatalf("stats %+v count %d", st, s.Count())
	}
}

func TestScanUnreadableDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows denies reads with ACLs, not mode bits")
	}
	if os.Geteuid() == 0 {
		t.Skip("root reads mode-000 directories")
	}
	share := t.TempDir()
	writeFile(t, filepath.Join(share, "ok.txt"), "ok")
	writeFile(t, filepath.Join(share, "closed", "x.txt"), "x")
	if err := os.Chmod(filepath.Join(share, "closed"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(share, "closed"), 0o755) })
	s := openTest(t, "")
	st := scan(t, s, []string{share}, ScanOptions{})
	if st.Files != 1 || st.Skipped != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestScanFileChangingWhileHashed(t *testing.T) {
	share := t.TempDir()
	path := filepath.Join(share, "growing.log")
	writeFile(t, path, "start\n")
	s := openTest(t, "")

	for _, tc := range []struct {
		name      string
		changes   int // how many hash attempts see the file change under them
		wantFiles int
	}{
		{"settles after one change", 1, 1},
		{"keeps changing", hashAttempts, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			s.hashHook = func(p string) {
				if calls.Add(1) <= int64(tc.changes) {
					f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
					if err != nil {
						t.Error(err)
						return
					}
					fmt.Fprintln(f, "more")
					f.Close()
				}
			}
			// Force a re-hash of the file.
			later := time.Now().Add(time.Duration(calls.Load()+1) * time.Minute)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
			st := scan(t, s, []string{share}, ScanOptions{})
			if st.Files != tc.wantFiles || s.Count() != tc.wantFiles {
				t.Fatalf("stats %+v count %d", st, s.Count())
			}
			if tc.wantFiles == 1 {
				data, _ := os.ReadFile(path)
				if paths(t, s)["growing.log"].Hash != content.Hash(blake3.Sum256(data)) {
					t.Fatal("stored hash is not the settled content's")
				}
			}
		})
	}
}

func TestScanProgressAndCancel(t *testing.T) {
	share := t.TempDir()
	writeTree(t, share, 300)
	s := openTest(t, "")
	var last ScanProgress
	var calls int
	scan(t, s, []string{share}, ScanOptions{Progress: func(p ScanProgress) { calls++; last = p }})
	if calls == 0 || !last.Done || last.Seen != 300 || last.Hashed != 300 || last.Bytes == 0 {
		t.Fatalf("progress calls %d, last %+v", calls, last)
	}

	// A cancelled scan reports it and removes nothing.
	if err := os.RemoveAll(filepath.Join(share, "d000")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Scan(ctx, []string{share}, ScanOptions{Logger: quietLogger()}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scan: %v", err)
	}
	if s.Count() != 300 {
		t.Fatalf("cancelled scan changed the catalog to %d files", s.Count())
	}

	// Cancelled while hashing: the scan stops early with the error.
	s2 := openTest(t, "")
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	s2.hashHook = func(string) { cancel() }
	if _, err := s2.Scan(ctx, []string{share}, ScanOptions{Workers: 1, Logger: quietLogger()}); !errors.Is(err, context.Canceled) {
		t.Fatalf("scan cancelled mid-way: %v", err)
	}
	if s2.Count() >= 200 {
		t.Fatalf("scan cancelled mid-way indexed all %d files", s2.Count())
	}
}

func TestHashStableRefusesWhatItCannotRead(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo") // e.g. swapped in after the walk saw a file
	mkfifo(t, fifo)
	s := openTest(t, "")
	r := &scanRun{s: s, ctx: context.Background(), log: quietLogger()}
	for _, p := range []string{fifo, filepath.Join(dir, "missing")} {
		done := make(chan error, 1)
		go func() { _, _, err := r.hashStable(p); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: hashed", p)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: hashing blocked", p)
		}
	}
}

func TestScanDropsFileReplacedByFIFO(t *testing.T) {
	share := t.TempDir()
	path := filepath.Join(share, "x")
	writeFile(t, path, "x")
	s := openTest(t, "")
	scan(t, s, []string{share}, ScanOptions{})
	os.Remove(path)
	mkfifo(t, path)
	st := scan(t, s, []string{share}, ScanOptions{})
	if st.Removed != 1 || st.Skipped != 1 || s.Count() != 0 {
		t.Fatalf("stats %+v count %d", st, s.Count())
	}
}
