package transfer

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/servent-p2p/servent/content"
)

// plainClient is a stock quic-go HTTP/3 client: no project download code.
func plainClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http3.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, QUICConfig: testQUIC()}
	t.Cleanup(func() { tr.Close() })
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// plainClientFrom is plainClient dialling from ip: another peer to the
// server (a client without a certificate is known by its IP address).
func plainClientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	qt := newTransport(t, ip)
	tr := &http3.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, QUICConfig: testQUIC(),
		Dial: func(ctx context.Context, addr string, tlsConf *tls.Config, conf *quic.Config) (*quic.Conn, error) {
			ua, err := net.ResolveUDPAddr("udp", addr)
			if err != nil {
				return nil, err
			}
			return qt.DialEarly(ctx, ua, tlsConf, conf)
		}}
	t.Cleanup(func() { tr.Close() })
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

type fetched struct {
	code int
	body []byte
	hdr  http.Header
}

func fetch(t *testing.T, c *http.Client, method, url string, hdr map[string]string) fetched {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fetched{resp.StatusCode, body, resp.Header}
}

func TestServeExternalClient(t *testing.T) {
	cat := newCatalog()
	root := t.TempDir()
	data := writeRandom(t, root, "doc.txt", 3*content.ChunkSize+10, 7)
	f := cat.add(t, root, "doc.txt")
	_, ob, _ := cat.Lookup(f.Hash)

	// A file changed after it was hashed, and a symlink out of the share.
	changed := cat.add(t, root, writeName(t, root, "changed.bin", "old"))
	if err := os.WriteFile(filepath.Join(root, "changed.bin"), []byte("new, longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	writeName(t, outside, "secret.txt", "secret")
	link := cat.add(t, outside, "secret.txt") // catalogued under outside...
	link.Root, link.Path = root, "link.txt"   // ...then served as root/link.txt -> outside
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "link.txt")); err != nil {
		t.Fatal(err)
	}
	cat.mu.Lock()
	e := cat.entries[link.Hash]
	e.f = link
	cat.entries[link.Hash] = e
	cat.mu.Unlock()

	var stale atomic.Int64
	p := newPeer(t, "127.0.0.30", cat, ServerConfig{OnStale: func(File) { stale.Add(1) }}, nil)
	base := "https://" + p.addr.String()
	c := plainClient(t)
	hex := f.Hash.String()
	tests := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		code   int
		body   []byte
	}{
		{"whole by hash", "GET", "/f/" + hex, nil, 200, data},
		{"gnutella N2R", "GET", "/uri-res/N2R?" + f.Hash.URN(), nil, 200, data},
		{"range", "GET", "/f/" + hex, map[string]string{"Range": "bytes=1048570-1048585"}, 206, data[1048570:1048586]},
		{"suffix range", "GET", "/uri-res/N2R?" + f.Hash.URN(), map[string]string{"Range": "bytes=-5"}, 206, data[len(data)-5:]},
		{"outboard", "GET", "/outboard/" + hex, nil, 200, ob},
		{"head", "HEAD", "/f/" + hex, nil, 200, nil},
		{"absurd range", "GET", "/f/" + hex, map[string]string{"Range": "bytes=99999999999-"}, 416, nil},
		{"unknown hash", "GET", "/f/" + strings.Repeat("ab", 32), nil, 404, nil},
		{"path traversal", "GET", "/f/../../etc/passwd", nil, 404, nil},
		{"N2R path", "GET", "/uri-res/N2R?/etc/passwd", nil, 404, nil},
		{"root", "GET", "/", nil, 404, nil},
		{"post", "POST", "/f/" + hex, nil, 405, nil},
		{"changed on disk", "GET", "/f/" + changed.Hash.String(), nil, 409, []byte("changed on disk, rehashing\n")},
		{"symlink out of share", "GET", "/f/" + link.Hash.String(), nil, 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fetch(t, c, tt.method, base+tt.path, tt.hdr)
			if got.code != tt.code {
				t.Fatalf("status %d, want %d (%q)", got.code, tt.code, got.body)
			}
			if tt.body != nil && !bytes.Equal(got.body, tt.body) {
				t.Fatalf("body: %d bytes differ from the %d wanted", len(got.body), len(tt.body))
			}
		})
	}
	if stale.Load() != 1 {
		t.Errorf("OnStale called %d times, want 1", stale.Load())
	}
	s := p.srv.Stats()
	if s.Uploads < 4 || s.Refused < 7 || s.BytesSent < int64(2*len(data)) {
		t.Errorf("stats %+v", s)
	}
	head := fetch(t, c, "HEAD", base+"/f/"+hex, nil)
	if head.hdr.Get("Accept-Ranges") != "bytes" || head.hdr.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("headers %v", head.hdr)
	}
}

// writeName writes content to dir/name and returns name.
func writeName(t *testing.T, dir, name, content string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestServeBusy(t *testing.T) {
	cat := newCatalog()
	f, _ := share(t, cat, "big.bin", 32*content.ChunkSize)
	p := newPeer(t, "127.0.0.31", cat, ServerConfig{MaxUploads: 1}, nil)
	c := plainClient(t)
	url := "https://" + p.addr.String() + "/f/" + f.Hash.String()

	// Hold the only slot: start a download and do not read it, so flow
	// control blocks the handler.
	ctx, cancel := context.WithCancel(testCtx(t))
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.srv.Stats().Active != 1 {
		if time.Now().After(deadline) {
			t.Fatal("first upload never became active")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Another peer that cannot queue is told busy; one that can is queued.
	other := plainClientFrom(t, "127.0.0.32")
	got := fetch(t, other, "GET", url, nil)
	if got.code != http.StatusServiceUnavailable || got.hdr.Get("Retry-After") == "" || !strings.HasPrefix(string(got.body), "busy") {
		t.Fatalf("second upload: %d %.80q Retry-After %q", got.code, got.body, got.hdr.Get("Retry-After"))
	}
	got = fetch(t, other, "GET", url, map[string]string{HeaderQueue: QueueVersion})
	if q, err := parseQueueInfo(got.hdr.Get(HeaderQueue)); got.code != http.StatusServiceUnavailable || err != nil || q.Position != 1 || q.Limit != 1 {
		t.Fatalf("queued upload: %d %.80q X-Queue %q (%v)", got.code, got.body, got.hdr.Get(HeaderQueue), err)
	}
	if st := p.srv.Stats(); st.Busy != 2 || st.Serving != 1 || st.Queued != 1 {
		t.Errorf("stats %+v", st)
	}
	// The peer holding the slot gets its further requests served.
	if got := fetch(t, c, "GET", url, map[string]string{"Range": "bytes=0-9"}); got.code != http.StatusPartialContent {
		t.Errorf("slot holder's second request: %d", got.code)
	}
	resp.Body.Close()
	cancel()
	p.waitIdle(t)
	if got := fetch(t, c, "GET", url, map[string]string{"Range": "bytes=0-9"}); got.code != http.StatusPartialContent {
		t.Errorf("after the slot freed: %d", got.code)
	}
}

func TestServeAllowHook(t *testing.T) {
	cat := newCatalog()
	f, _ := share(t, cat, "a.bin", 100)
	p := newPeer(t, "127.0.0.32", cat, ServerConfig{Allow: func(r *http.Request) bool { return r.Header.Get("X-Drill") == "yes" }}, nil)
	c := plainClient(t)
	url := "https://" + p.addr.String() + "/f/" + f.Hash.String()
	if got := fetch(t, c, "GET", url, nil); got.code != http.StatusForbidden {
		t.Errorf("without key: %d", got.code)
	}
	if got := fetch(t, c, "GET", url, map[string]string{"X-Drill": "yes"}); got.code != http.StatusOK {
		t.Errorf("with key: %d", got.code)
	}
}

// FuzzServeHTTP feeds arbitrary request targets to the handler: it must
// never panic and never serve anything but the one catalogued file.
func FuzzServeHTTP(f *testing.F) {
	cat := newCatalog()
	root := f.TempDir()
	data := writeRandom(f, root, "only.bin", 1000, 1)
	file := cat.add(f, root, "only.bin")
	srv, err := NewServer(ServerConfig{Catalog: cat})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"/f/" + file.Hash.String(), "/uri-res/N2R?" + file.Hash.URN(), "/outboard/" + file.Hash.String(),
		"/f/../../etc/passwd", "/uri-res/N2R?urn:blake3:", "/f/%2e%2e", "/outboard/", "//f//x"} {
		f.Add(s, "bytes=0-10")
	}
	f.Fuzz(func(t *testing.T, target, rng string) {
		req := httptest.NewRequest("GET", "http://x/", nil)
		req.URL.Path, req.URL.RawQuery, _ = strings.Cut(target, "?")
		req.Header.Set("Range", rng)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code < 300 && !bytes.Contains(data, w.Body.Bytes()) && !strings.HasPrefix(req.URL.Path, "/outboard/") {
			t.Fatalf("%q served %d bytes that are not the file's", target, w.Body.Len())
		}
	})
}

// TestServeStalledPeerLosesSlot: a peer that stops reading loses its slot
// after the write progress deadline, and the next in the queue is served.
func TestServeStalledPeerLosesSlot(t *testing.T) {
	cat := newCatalog()
	f, _ := share(t, cat, "big.bin", 32*content.ChunkSize)
	log := &queueLog{}
	p := newPeer(t, "127.0.0.33", cat, ServerConfig{MaxUploads: 1, WriteStall: 300 * time.Millisecond, Logger: slog.New(log)}, nil)
	url := "https://" + p.addr.String() + "/f/" + f.Hash.String()

	staller := plainClientFrom(t, "127.0.0.34")
	req, _ := http.NewRequestWithContext(testCtx(t), "GET", url, nil)
	resp, err := staller.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() // never read

	waiter := plainClientFrom(t, "127.0.0.35")
	q := map[string]string{HeaderQueue: QueueVersion, "Range": "bytes=0-9"}
	if got := fetch(t, waiter, "GET", url, q); got.code != http.StatusServiceUnavailable || got.hdr.Get(HeaderQueue) == "" {
		t.Fatalf("while the slot is held: %d X-Queue %q", got.code, got.hdr.Get(HeaderQueue))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := fetch(t, waiter, "GET", url, q)
		if got.code == http.StatusPartialContent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the staller still holds the slot after 10 s: %d %q", got.code, got.hdr.Get(HeaderQueue))
		}
		time.Sleep(100 * time.Millisecond)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if !slices.ContainsFunc(log.events, func(e queueLogEntry) bool {
		return strings.HasPrefix(e.msg, "peer stopped reading") && e.peer == "ip:127.0.0.34"
	}) {
		t.Errorf("the slot was not taken back for stalling (it idled out): %v", log.events)
	}
}
