//go:build !windows

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
)

// folderShare writes the shared tree of the folder test: under drill/,
// 1,000 small files in 10 folders and 3 large ones, plus names the
// sanitiser must change (a hidden file, an escape sequence); other.txt
// lies outside the folder. It returns the share and drill/'s files by
// share-relative path.
func folderShare(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	share := t.TempDir()
	files := map[string][]byte{}
	for i := range 1000 {
		files[fmt.Sprintf("drill/tiles/%02d/tile-%04d.txt", i%10, i)] = []byte(fmt.Sprintf("tile %d of the evacuation map\n%s", i, strings.Repeat("x", i)))
	}
	for i := range 3 {
		b := make([]byte, 6<<20+i)
		rand.Read(b)
		files[fmt.Sprintf("drill/video/briefing-%d.bin", i)] = b
	}
	files["drill/odd/.hidden"] = []byte("hidden")
	files["drill/odd/\x1b[31mred.txt"] = []byte("red")
	for p, b := range files {
		writeFile(t, filepath.Join(share, p), b)
	}
	writeFile(t, filepath.Join(share, "other.txt"), []byte("not in the folder"))
	return share, files
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// savedFiles maps the complete files below dir (no .part) to their inode
// and modification time.
func savedFiles(t *testing.T, dir string) map[string][2]int64 {
	t.Helper()
	out := map[string][2]int64{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".part") {
			return nil
		}
		if info, err := d.Info(); err == nil {
			rel, _ := filepath.Rel(dir, p)
			out[rel] = [2]int64{int64(info.Sys().(*syscall.Stat_t).Ino), info.ModTime().UnixNano()}
		}
		return nil
	})
	return out
}

// bytesSent is the seeder's count of file bytes uploaded.
func bytesSent(t *testing.T, n *node) int64 {
	t.Helper()
	out, _, code := servent(t, "status", "--data", n.data, "--json")
	var st struct{ Transfer struct{ BytesSent int64 } }
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("seeder status: exit %d: %s", code, out)
	}
	return st.Transfer.BytesSent
}

// TestFolderBrowseGetResume: a peer's folder of 1,000 small files and 3
// large ones is browsed as a tree and downloaded with its structure; the
// downloading daemon is killed (SIGKILL) half-way, started again, and the
// same command finishes the folder without fetching again any file that
// was complete: the seeder sends at most the bytes of the files missing
// at the kill, and those files keep their inode and mtime. Then
// `get --folder 1` fetches the folder of a search result. About 1-3
// minutes (a race-instrumented binary; the seeder drops the killed
// node's connections once it connects again, within ~2 s).
func TestFolderBrowseGetResume(t *testing.T) {
	if testing.Short() {
		t.Skip("two real nodes and a 1,003-file folder")
	}
	share, files := folderShare(t)
	var total int64
	for _, b := range files {
		total += int64(len(b))
	}
	seeder := startNode(t, "127.0.10.21:0", nil, "--share", share, "--name", "seeder")
	getter := startNode(t, "127.0.10.22:0", nil, "--seed", seeder.addr, "--name", "getter")
	eventually(t, 90*time.Second, "the seeder to index its share", func() bool {
		out, _, _ := servent(t, "shares", "--data", seeder.data, "--json")
		return strings.Count(out, `"path":"drill/`) == len(files)
	})
	eventually(t, 30*time.Second, "the two nodes to see each other", func() bool {
		out, _, _ := servent(t, "peers", "--data", getter.data, "--json")
		return strings.Count(out, `"alive"`) == 2
	})

	t.Run("browse", func(t *testing.T) {
		stdout, stderr, code := servent(t, "browse", "--data", getter.data, "--json", "seeder", "drill")
		var l api.Listing
		if code != 0 || json.Unmarshal([]byte(stdout), &l) != nil {
			t.Fatalf("browse --json: exit %d, %s %s", code, stdout, stderr)
		}
		if len(l.Files) != len(files) || l.Peer.Name != "seeder" {
			t.Fatalf("listing of %s: %d files, want %d", l.Peer.Name, len(l.Files), len(files))
		}
		stdout, stderr, code = servent(t, "browse", "--data", getter.data, "--depth", "2", "seed")
		for _, want := range []string{"seeder (key ", "drill/  (1005 files", "  tiles/  (1000 files", "other.txt", "servent get seeder:drill"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("browse tree lacks %q:\n%s", want, stdout)
			}
		}
		if code != 0 || strings.Contains(stdout, "\x1b") || strings.Contains(stdout, "tile-0001") {
			t.Errorf("browse --depth 2: exit %d, raw escape or too deep:\n%s%s", code, stdout, stderr)
		}
		stdout, _, _ = servent(t, "browse", "--data", getter.data, "seeder", "drill/odd")
		if !strings.Contains(stdout, `\x1b[31mred.txt`) || strings.Contains(stdout, "\x1b") {
			t.Errorf("a name with an escape sequence is not shown escaped:\n%s", stdout)
		}
		if _, stderr, code := servent(t, "browse", "--data", getter.data, "nobody"); code == 0 || !strings.Contains(stderr, "no such peer") {
			t.Errorf("unknown peer: exit %d, %s", code, stderr)
		}
	})

	out := t.TempDir()
	dir := filepath.Join(out, "drill")
	g := startGet(t, getter.data, out, "seeder:drill")
	eventually(t, 120*time.Second, "a part of the folder to arrive", func() bool { return len(savedFiles(t, dir)) >= 200 })
	getter.kill()
	code, stderr := g.wait(t, 30*time.Second)
	before := savedFiles(t, dir)
	if code == 0 || len(before) >= len(files) {
		t.Fatalf("the kill came too late: get exit %d with %d of %d files (%s)", code, len(before), len(files), stderr)
	}
	var finished int64
	for rel := range before {
		finished += int64(len(files["drill/"+filepath.ToSlash(rel)]))
	}
	sentBefore := bytesSent(t, seeder)

	getter.start(t, nil, "--seed", seeder.addr, "--name", "getter")
	eventually(t, 30*time.Second, "the restarted getter to see the seeder", func() bool {
		out, _, _ := servent(t, "peers", "--data", getter.data, "--json")
		return strings.Count(out, `"alive"`) == 2
	})
	started := time.Now()
	g = startGet(t, getter.data, out, "seeder:drill")
	if code, stderr := g.wait(t, 150*time.Second); code != 0 {
		t.Fatalf("resume: exit %d: %s\n%s", code, stderr, tail(getter.log.String()))
	}
	var done api.GetDone
	if err := json.Unmarshal([]byte(g.last), &done); err != nil {
		t.Fatalf("resume output %q: %v", g.last, err)
	}
	resent := bytesSent(t, seeder) - sentBefore
	t.Logf("killed with %d of %d files (%d of %d bytes) saved; resume took %s, kept %d files, seeder sent %d bytes",
		len(before), len(files), finished, total, time.Since(started).Round(time.Millisecond), done.Kept, resent)
	if done.Files != len(files) || done.Kept < len(before) || !done.Resumed {
		t.Errorf("done record: %d files, %d kept (want %d, >= %d)", done.Files, done.Kept, len(files), len(before))
	}
	if resent <= 0 || resent > total-finished {
		t.Errorf("resume made the seeder send %d bytes; the files missing at the kill hold %d", resent, total-finished)
	}

	after := savedFiles(t, dir)
	for rel, id := range before {
		if after[rel] != id {
			t.Errorf("%s was written again on resume", rel)
		}
	}
	for p, b := range files {
		rel := strings.TrimPrefix(p, "drill/")
		switch rel {
		case "odd/.hidden":
			rel = "odd/hidden"
		case "odd/\x1b[31mred.txt":
			rel = "odd/[31mred.txt"
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%q: %d bytes, %v; want the %d shared", rel, len(got), err, len(b))
		}
	}
	if len(after) != len(files) {
		t.Errorf("%d files in the folder, want %d", len(after), len(files))
	}
	if _, err := os.Stat(filepath.Join(out, "other.txt")); err == nil {
		t.Error("a file outside the folder was downloaded")
	}

	t.Run("folder of a search result", func(t *testing.T) {
		if stdout, stderr, code := servent(t, "search", "--data", getter.data, "briefing"); code != 0 || !strings.Contains(stdout, "drill/video/briefing-") {
			t.Fatalf("search: exit %d: %s%s", code, stdout, stderr)
		}
		out := t.TempDir()
		if stdout, stderr, code := servent(t, "get", "--data", getter.data, "--folder", "--out", out, "1"); code != 0 || !strings.Contains(stdout, "3 files") {
			t.Fatalf("get --folder 1: exit %d: %s%s", code, stdout, stderr)
		}
		for i := range 3 {
			name := fmt.Sprintf("briefing-%d.bin", i)
			if got, err := os.ReadFile(filepath.Join(out, "video", name)); err != nil || !bytes.Equal(got, files["drill/video/"+name]) {
				t.Errorf("video/%s: %d bytes, %v", name, len(got), err)
			}
		}
	})
}
