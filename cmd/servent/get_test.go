package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/servent-p2p/servent/api"
)

// node is a `servent run` of the get tests, on a loopback address with
// LAN discovery off; kill ends it at once, cleanup ends it too.
type node struct {
	data, addr string
	cmd        *exec.Cmd
	log        bytes.Buffer
}

func startNode(t *testing.T, addr string, env []string, args ...string) *node {
	t.Helper()
	n := &node{data: t.TempDir(), addr: addr}
	n.start(t, env, args...)
	return n
}

// start runs the node's `servent run` on its data dir and address (again,
// after kill: the same port, the same state).
func (n *node) start(t *testing.T, env []string, args ...string) {
	t.Helper()
	addr := n.addr
	n.cmd = exec.Command(binary, append([]string{"run", "--data", n.data, "--listen", addr, "--log-level", "debug"}, args...)...)
	n.cmd.Env = append(append(os.Environ(), "SERVENT_DISCOVERY=false"), env...)
	n.cmd.Stderr = &n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.kill)
	eventually(t, 30*time.Second, addr+" to answer", func() bool {
		out, _, code := servent(t, "status", "--data", n.data, "--json")
		var st api.Status
		if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
			return false
		}
		n.addr = st.Listen // the port it bound
		return true
	})
}

func (n *node) kill() {
	if n.cmd.ProcessState == nil {
		n.cmd.Process.Kill()
		n.cmd.Wait()
	}
}

// getRun is a `servent get --json` in the background.
type getRun struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	queued chan struct{} // closed at its first queue place
	done   chan struct{}
	code   int
	last   string // the last line it printed
}

func startGet(t *testing.T, data, out, hash string) *getRun {
	t.Helper()
	g := &getRun{queued: make(chan struct{}), done: make(chan struct{})}
	g.cmd = exec.Command(binary, "get", "--data", data, "--json", "--out", out, hash)
	g.cmd.Stderr = &g.stderr
	stdout, err := g.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(g.done)
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			g.last = sc.Text()
			var ev api.GetEvent
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Progress != nil && len(ev.Progress.Queue) > 0 && !seen {
				seen = true
				close(g.queued)
			}
		}
		g.cmd.Wait()
		g.code = g.cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() { g.cmd.Process.Kill(); <-g.done })
	return g
}

// wait waits for the get to end and returns its exit status and stderr.
func (g *getRun) wait(t *testing.T, timeout time.Duration) (int, string) {
	t.Helper()
	select {
	case <-g.done:
	case <-time.After(timeout):
		t.Fatalf("get still running after %s: %s", timeout, g.stderr.String())
	}
	return g.code, g.stderr.String()
}

func (g *getRun) waitQueued(t *testing.T, n *node) {
	t.Helper()
	select {
	case <-g.queued:
	case <-g.done:
		t.Fatalf("get ended before it was queued: %s", g.stderr.String())
	case <-time.After(45 * time.Second):
		t.Fatalf("get never reported a queue place: %s\nseeder log: %s", g.stderr.String(), tail(n.log.String()))
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}

// holdSlot takes the seeder's only upload slot with a plain HTTP/3 client
// (no certificate: known by its IP) that asks for the whole file and reads
// nothing, until the test ends.
func holdSlot(t *testing.T, seeder, hash string) {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	qt := &quic.Transport{Conn: udp}
	tr := &http3.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{http3.NextProtoH3}},
		Dial: func(ctx context.Context, addr string, tc *tls.Config, qc *quic.Config) (*quic.Conn, error) {
			ua, err := net.ResolveUDPAddr("udp", addr)
			if err != nil {
				return nil, err
			}
			return qt.Dial(ctx, ua, tc, qc)
		}}
	t.Cleanup(func() { tr.Close(); qt.Close(); udp.Close() })
	req, _ := http.NewRequest(http.MethodGet, "https://"+seeder+"/f/"+hash, nil)
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("holding the slot: %s", resp.Status)
	}
	t.Cleanup(func() { resp.Body.Close() })
}

// TestGetEndings makes a download end in every way it can and checks that
// `servent get` says why, with the exit status the README promises.
func TestGetEndings(t *testing.T) {
	share := t.TempDir()
	body := make([]byte, 6<<20)
	rand.Read(body)
	if err := os.WriteFile(filepath.Join(share, "big.bin"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	seeder := startNode(t, "127.0.10.1:0", []string{"SERVENT_MAX_UPLOADS=1"}, "--share", share, "--name", "n1")
	getter := startNode(t, "127.0.10.2:0", nil, "--seed", seeder.addr, "--name", "n2")
	var hash string
	eventually(t, 30*time.Second, "the seeder to index its share", func() bool {
		out, _, _ := servent(t, "shares", "--data", seeder.data, "--json")
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") { // big.bin and the node's own binary
			var s api.Share
			if json.Unmarshal([]byte(line), &s) == nil && s.Path == "big.bin" {
				hash = s.Hash
			}
		}
		return hash != ""
	})
	eventually(t, 30*time.Second, "the two nodes to see each other", func() bool {
		out, _, _ := servent(t, "peers", "--data", getter.data, "--json")
		return strings.Count(out, `"alive"`) == 2
	})

	t.Run("bad hash exits 2", func(t *testing.T) {
		_, stderr, code := servent(t, "get", "--data", getter.data, "zz-not-a-hash")
		if code != 2 || !strings.Contains(stderr, "not a hash") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("no source exits 1", func(t *testing.T) {
		_, stderr, code := servent(t, "get", "--data", getter.data, "--out", t.TempDir(), strings.Repeat("ab", 32))
		if code != 1 || !strings.Contains(stderr, "no peer can serve") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("ok exits 0", func(t *testing.T) {
		out := t.TempDir()
		stdout, stderr, code := servent(t, "get", "--data", getter.data, "--out", out, hash)
		if code != 0 || !strings.Contains(stdout, "verified") {
			t.Fatalf("exit %d, stdout %q stderr %q", code, stdout, stderr)
		}
		if got, _ := os.ReadFile(filepath.Join(out, "big.bin")); !bytes.Equal(got, body) {
			t.Fatal("downloaded file differs")
		}
	})
	t.Run("disk full exits 1", func(t *testing.T) {
		out := t.TempDir()
		if o, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", out).CombinedOutput(); err != nil {
			t.Skipf("cannot mount tmpfs (needs root): %v: %s", err, o)
		}
		defer exec.Command("umount", out).Run()
		_, stderr, code := servent(t, "get", "--data", getter.data, "--out", out, hash)
		if code != 1 || !strings.Contains(stderr, "disk full") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})

	// From here the seeder's only slot is held by someone else.
	if _, _, code := servent(t, "status", "--data", seeder.data); code != 0 {
		t.Fatal("seeder gone")
	}
	holdSlot(t, seeder.addr, hash)
	t.Run("interrupted while queued exits 1", func(t *testing.T) {
		g := startGet(t, getter.data, t.TempDir(), hash)
		g.waitQueued(t, seeder)
		g.cmd.Process.Signal(syscall.SIGINT)
		code, stderr := g.wait(t, 20*time.Second)
		if code != 1 || !strings.Contains(stderr, "interrupted") || !strings.Contains(stderr, "queued at position 1 of 1 on n1") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("busy then the source dies exits 1", func(t *testing.T) {
		g := startGet(t, getter.data, t.TempDir(), hash)
		g.waitQueued(t, seeder)
		seeder.kill()
		code, stderr := g.wait(t, 60*time.Second)
		if code != 1 || !strings.Contains(stderr, "no peer can serve") || strings.Contains(stderr, "without a result") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		t.Logf("reason given: %s", stderr)
	})
}

// TestGetBrokenStreamIsABug: a daemon whose download handler dies (a
// panic net/http recovers, before or after the first event) is reported
// as a bug pointing at its log, never as something to resume.
func TestGetBrokenStreamIsABug(t *testing.T) {
	for _, after := range []bool{false, true} {
		data := t.TempDir()
		ln, err := net.Listen("unix", api.SocketPath(data))
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if after {
				json.NewEncoder(w).Encode(api.GetEvent{Progress: &api.Progress{Total: 10}})
				w.(http.Flusher).Flush()
			}
			panic("handler bug")
		}), ErrorLog: log.New(io.Discard, "", 0)}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		_, stderr, code := servent(t, "get", "--data", data, "--out", t.TempDir(), strings.Repeat("ab", 32))
		if code != 1 || !strings.Contains(stderr, "bug") || !strings.Contains(stderr, "log") || strings.Contains(stderr, "resume") {
			t.Errorf("handler dying after an event=%v: exit %d, stderr %q", after, code, stderr)
		}
	}
}
