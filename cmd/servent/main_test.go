package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	zeebo "github.com/zeebo/blake3"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/internal/testutil"
	"github.com/servent-p2p/servent/kit"
)

// binary is the servent binary built once for the tests in this package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "servent-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "servent")
	out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// servent runs the binary to completion and returns stdout, stderr and the
// exit status.
func servent(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// startDaemon starts `servent run`; the returned function stops it with
// SIGINT and checks it exits cleanly. It also runs at cleanup.
func startDaemon(t *testing.T, args ...string) (stop func(), pid int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"run"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Signal(os.Interrupt)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("servent run exited with %v\n%s", err, stderr.String())
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Errorf("servent run did not stop on SIGINT\n%s", stderr.String())
			}
		})
	}
	t.Cleanup(stop)
	return stop, cmd.Process.Pid
}

// eventually is the shared testutil.Eventually.
var eventually = testutil.Eventually

func TestRunIndexesAndSharesLists(t *testing.T) {
	data, share := t.TempDir(), t.TempDir()
	files := map[string][]byte{
		"maps/Zürich city.pdf": bytes.Repeat([]byte("map"), 500_000),
		"notes.txt":            []byte("water at the school\n"),
		"empty":                nil,
	}
	for name, body := range files {
		p := filepath.Join(share, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, pid := startDaemon(t, "--data", data, "--share", share, "--listen", "127.0.0.1:0")

	var shares []api.Share
	eventually(t, 30*time.Second, "the catalog to list every file", func() bool {
		out, _, code := servent(t, "shares", "--data", data, "--json")
		if code != 0 {
			return false
		}
		shares = shares[:0]
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var s api.Share
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
			}
			shares = append(shares, s)
		}
		return len(shares) == len(files)+1
	})
	// Every node offers its own binary (DATA_DIR/kit) besides the shares.
	self, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	files[kit.Own().FileName()] = self
	for _, s := range shares {
		body, ok := files[s.Path]
		if !ok {
			t.Fatalf("unexpected share %q", s.Path)
		}
		// An independent BLAKE3 implementation gives the same hash.
		want := zeebo.Sum256(body)
		if s.Hash != fmt.Sprintf("%x", want) || s.Size != int64(len(body)) {
			t.Errorf("%s: size %d hash %s, want size %d hash %x", s.Path, s.Size, s.Hash, len(body), want)
		}
	}

	// Nothing of the daemon listens on TCP: one UDP port and a unix socket.
	if out, err := exec.Command("ss", "-ltnpH").Output(); err == nil {
		if strings.Contains(string(out), fmt.Sprintf("pid=%d,", pid)) {
			t.Fatalf("servent listens on TCP:\n%s", out)
		}
	} else {
		t.Logf("ss unavailable (%v): TCP listener check skipped", err)
	}

	// A second daemon on the same data dir is refused with exit status 2.
	_, stderr, code := servent(t, "run", "--data", data, "--listen", "127.0.0.1:0")
	if code != 2 || !strings.Contains(stderr, "another servent is using") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("second daemon: exit %d, stderr %q", code, stderr)
	}
}

func TestSharesWithoutDaemonReadsCatalog(t *testing.T) {
	data, share := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(share, "a.txt"), []byte("hello"), 0o644)
	stop, _ := startDaemon(t, "--data", data, "--share", share, "--listen", "127.0.0.1:0")
	eventually(t, 30*time.Second, "the file and the node's own binary to be indexed", func() bool {
		out, _, _ := servent(t, "shares", "--data", data, "--json")
		return strings.Contains(out, `"a.txt"`) && strings.Contains(out, kit.Own().FileName())
	})
	stop()
	out, stderr, code := servent(t, "shares", "--data", data)
	if code != 0 || !strings.Contains(out, "a.txt") || !strings.Contains(out, "2 files") {
		t.Fatalf("read-only shares: exit %d\n%s\n%s", code, out, stderr)
	}
}

func TestUsageAndConfigErrorsExit2(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "f")
	os.WriteFile(notDir, nil, 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"run", "--sharez", "x"}, "unknown flag"},
		{"port out of range", []string{"run", "--data", t.TempDir(), "--listen", "0.0.0.0:70000"}, "listen: port 70000"},
		{"share not a dir", []string{"run", "--data", t.TempDir(), "--share", notDir}, "is not a directory"},
		{"extra argument", []string{"status", "extra"}, "usage: servent status"},
		{"get --share is get's own flag", []string{"get", "--data", t.TempDir(), "--share", "1"}, "no result #1 in the last search"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := servent(t, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
				t.Fatalf("want a one-line error, got %q", stderr)
			}
		})
	}
}

// TestUnknownEnvWarnedByName: a misspelt SERVENT_* variable is named at
// start (here before the start fails on a bad port, which still exits 2).
func TestUnknownEnvWarnedByName(t *testing.T) {
	cmd := exec.Command(binary, "run", "--data", t.TempDir(), "--listen", "0.0.0.0:70000")
	cmd.Env = append(os.Environ(), "SERVENT_SHARE=/srv", "SERVENT_TTL=3")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2:\n%s", err, out)
	}
	if !strings.Contains(string(out), "warning: SERVENT_SHARE is not a configuration key") || strings.Contains(string(out), "SERVENT_TTL") {
		t.Fatalf("want a warning naming SERVENT_SHARE and none for SERVENT_TTL:\n%s", out)
	}
}

func TestStatusWithoutDaemonSaysWhatToDo(t *testing.T) {
	_, stderr, code := servent(t, "status", "--data", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "servent run") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
