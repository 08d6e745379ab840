package web

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	zeebo "github.com/zeebo/blake3"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/internal/proc"
	"github.com/servent-p2p/servent/internal/testutil"
)

// TestBrowserPage drives a real headless Chromium at a phone's viewport
// with JavaScript disabled against the page with the in-test backend:
// passphrase form, search, a hostile name shown as text, download checked
// by hash.
func TestBrowserPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	ctx := newChromium(t, 60*time.Second)
	b := newTestBackend(t)
	hashHex := b.addFile("evacuation map.pdf", bytes.Repeat([]byte("evacuation map tile "), 50_000), 2)
	b.addFile("evacuation plan <script>alert(1)</script>.txt", []byte("plan"), 1)
	drop := t.TempDir()
	_, base := testServer(t, b, func(c *Config) { c.Passphrase = "drill 2026"; c.DropDir = drop })
	h, _ := content.ParseHash(hashHex)
	visitAsPhone(t, ctx, phoneVisit{
		pageURL: base + "/", passphrase: "drill 2026", query: "evacuation", wantName: "evacuation map.pdf", wantHash: h,
		wantNames: []string{"evacuation plan <script>alert(1)</script>.txt"}, noScript: true,
	})

	photo := filepath.Join(t.TempDir(), "shelter photo.jpg")
	os.WriteFile(photo, []byte("jpeg bytes"), 0o644)
	if msg := uploadAsPhone(t, ctx, photo); !strings.Contains(msg, "Saved as shelter photo.jpg") {
		t.Fatalf("upload message %q", msg)
	}
	if got, err := os.ReadFile(filepath.Join(drop, "shelter photo.jpg")); err != nil || string(got) != "jpeg bytes" {
		t.Fatalf("uploaded file: %q %v", got, err)
	}
	if b.rescans.Load() != 1 {
		t.Errorf("%d rescans after the upload", b.rescans.Load())
	}
}

// TestBrowserEndToEnd runs three real `servent run` processes on
// 127.0.0.x with a drill key; a headless Chromium at a phone's viewport
// opens the first node's page, gives the passphrase, searches for a file
// held by the two other nodes, downloads it and checks its BLAKE3 hash.
// The screenshot of the results is kept (see saveScreenshot).
func TestBrowserEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds servent, starts three nodes and Chromium")
	}
	ctx := newChromium(t, 120*time.Second)
	bin := buildServent(t)
	const key = "drill 2026"

	mapPDF := make([]byte, 3<<20+12345) // several chunks, two sources
	rng := rand.NewChaCha8([32]byte{'s', 'e', 'r', 'v', 'e', 'n', 't'})
	rng.Read(mapPDF)
	want := content.Hash(zeebo.Sum256(mapPDF)) // an independent BLAKE3
	holder1 := map[string][]byte{"evacuation map.pdf": mapPDF, "evacuation plan <b>draft</b>.txt": []byte("assemble at the school\n")}
	holder2 := map[string][]byte{"maps/evacuation map.pdf": mapPDF, "water points.csv": []byte("lat,lon\n")}

	ips := []string{"127.0.0.21", "127.0.0.22", "127.0.0.23"}
	udp := make([]string, len(ips))
	for i, ip := range ips {
		udp[i] = freePort(t, "udp", ip)
	}
	webAddr := freePort(t, "tcp", ips[0])
	env := []string{"SERVENT_KEY=" + key, "SERVENT_DISCOVERY=false", "SERVENT_WEB_UPLOAD=true"}
	web := startServent(t, bin, env, "--name", "phone-node", "--listen", udp[0], "--web-listen", webAddr, "--seed", udp[1])
	startServent(t, bin, env, "--name", "holder-1", "--listen", udp[1], "--seed", udp[0], "--share", shareDir(t, holder1))
	startServent(t, bin, env, "--name", "holder-2", "--listen", udp[2], "--seed", udp[0], "--share", shareDir(t, holder2))
	pageURL := "http://" + webAddr + "/"

	eventually(t, 30*time.Second, "the node to serve the page on --web-listen (is package web wired into the daemon?)", func() bool {
		resp, err := http.Get(pageURL + "login")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	// The page has its own passphrase, printed by the node (never the
	// drill key).
	pass := printedPassphrase(t, web.output())

	// The network has converged when a plain HTTP search through the page
	// sees both holders.
	c := newDeviceClient(t, "127.0.0.29") // not the phone: see newDeviceClient
	loggedIn := false
	eventually(t, 60*time.Second, "the page to find the map on both holders", func() bool {
		if !loggedIn {
			loggedIn = tryLogin(c, pageURL, pass)
			return false
		}
		resp, err := c.Get(pageURL + "?q=evacuation+map")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		return strings.Contains(body.String(), "evacuation map.pdf") && strings.Contains(body.String(), "2 sources")
	})
	if out := web.output(); !strings.Contains(out, pageURL) {
		t.Errorf("the node did not print the page's URL:\n%s", out)
	}

	shot := visitAsPhone(t, ctx, phoneVisit{
		pageURL: pageURL, passphrase: pass, query: "evacuation", wantName: "evacuation map.pdf", wantHash: want,
		wantNames: []string{"evacuation plan <b>draft</b>.txt"},
	})
	saveScreenshot(t, shot)
}

var (
	serventOnce sync.Once
	serventBin  string
	serventErr  error
)

// buildServent builds the servent binary once per test run.
func buildServent(t *testing.T) string {
	t.Helper()
	serventOnce.Do(func() {
		dir, err := os.MkdirTemp("", "servent-web-e2e")
		if err != nil {
			serventErr = err
			return
		}
		serventBin = filepath.Join(dir, "servent")
		serventErr = proc.Build(context.Background(), "..", serventBin)
	})
	if serventErr != nil {
		t.Fatal(serventErr)
	}
	return serventBin
}

// servent is one running `servent run` process.
type servent struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (s *servent) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

func (s *servent) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// startServent runs `servent run` with its own data dir; it is stopped
// with SIGINT at cleanup (killed after 15 s). Its output is logged when
// the test fails.
func startServent(t *testing.T, bin string, env []string, args ...string) *servent {
	t.Helper()
	s := &servent{}
	cmd := exec.Command(bin, append([]string{"run", "--data", t.TempDir()}, args...)...) // a later --data wins
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = s, s
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("servent %v did not stop on SIGINT", args)
		}
		if t.Failed() {
			t.Logf("servent %v output:\n%s", args, s.output())
		}
	})
	return s
}

// shareDir writes files (relative slash paths) into a new folder.
func shareDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// freePort returns ip:port with a port free right now for network ("tcp" or "udp").
func freePort(t *testing.T, network, ip string) string {
	t.Helper()
	var addr string
	switch network {
	case "tcp":
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
	default:
		pc, err := net.ListenPacket("udp", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		addr = pc.LocalAddr().String()
		pc.Close()
	}
	return addr
}

// printedPassphrase returns the page passphrase a node printed at start.
func printedPassphrase(t *testing.T, out string) string {
	t.Helper()
	const mark = "The page's passphrase (not the drill key; the code below logs in with it): "
	i := strings.Index(out, mark)
	if i < 0 {
		t.Fatalf("the node printed no page passphrase:\n%s", out)
	}
	line := out[i+len(mark):]
	return strings.TrimSpace(line[:strings.IndexByte(line, '\n')])
}

// tryLogin gives the passphrase through the login form; it reports success.
func tryLogin(c *http.Client, pageURL, key string) bool {
	resp, err := c.Get(pageURL + "login")
	if err != nil {
		return false
	}
	var page bytes.Buffer
	page.ReadFrom(resp.Body)
	resp.Body.Close()
	const mark = `name="csrf" value="`
	i := strings.Index(page.String(), mark)
	if i < 0 {
		return false
	}
	rest := page.String()[i+len(mark):]
	form := url.Values{"csrf": {rest[:strings.IndexByte(rest, '"')]}, "passphrase": {key}}
	req, _ := http.NewRequest(http.MethodPost, pageURL+"login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", strings.TrimSuffix(pageURL, "/"))
	resp, err = c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/"
}

// eventually is the shared testutil.Eventually.
var eventually = testutil.Eventually
