package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/kit"
)

// TestKitListsAndFetches runs a node started with a drill kit and one
// without: the second lists both kits' binaries (its own one included) and
// fetches the Windows binary, verified, byte for byte.
func TestKitListsAndFetches(t *testing.T) {
	kitDir := t.TempDir()
	win := kit.Target{GOOS: "windows", GOARCH: "amd64"}
	body := bytes.Repeat([]byte("windows servent "), 200_000) // 3.2 MB: several chunks
	if err := os.WriteFile(filepath.Join(kitDir, win.FileName()), body, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if err := os.WriteFile(filepath.Join(kitDir, kit.SHA256File), []byte(hex.EncodeToString(sum[:])+"  "+win.FileName()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, b := t.TempDir(), t.TempDir()
	startDaemon(t, "--data", a, "--kit", kitDir, "--listen", "127.0.0.31:0")
	startDaemon(t, "--data", b, "--listen", "127.0.0.32:0", "--seed", seedOf(t, a))

	// Both nodes run this binary: one entry, two sources.
	var list string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last servent kit --json:\n%s", list)
		}
	})
	eventually(t, 60*time.Second, "servent kit to list the Windows binary, and this one on both nodes", func() bool {
		out, _, code := servent(t, "kit", "--data", b, "--timeout", "1s", "--json")
		list = out
		sources := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r api.Result
			if json.Unmarshal([]byte(line), &r) == nil {
				sources[r.Name] = len(r.Sources)
			}
		}
		return code == 0 && sources[win.FileName()] == 1 && sources[kit.Own().FileName()] == 2
	})
	out := t.TempDir()
	stdout, stderr, code := servent(t, "kit", "--data", b, "--out", out, win.String())
	if code != 0 {
		t.Fatalf("servent kit %s: exit %d\n%s%s", win, code, stdout, stderr)
	}
	got, err := os.ReadFile(filepath.Join(out, win.FileName()))
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("fetched binary differs (%v)", err)
	}
	if _, _, code := servent(t, "kit", "--data", b, "plan9/386"); code != 2 {
		t.Errorf("unknown platform: exit %d, want 2", code)
	}
}

// seedOf waits for the daemon on data to answer and returns its listen
// address, for another node's --seed.
func seedOf(t *testing.T, data string) string {
	t.Helper()
	var st api.Status
	eventually(t, 30*time.Second, "the first daemon to answer status", func() bool {
		out, _, code := servent(t, "status", "--data", data, "--json")
		return code == 0 && json.Unmarshal([]byte(out), &st) == nil && st.Listen != ""
	})
	return st.Listen
}
