package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
)

// testBackend is a small node stand-in backed by real files: Search
// matches keywords of the file names, Fetch copies the file into a cache
// folder (as the node would after a verified download).
type testBackend struct {
	t        testing.TB
	cacheDir string
	gate     chan struct{} // when set, Fetch waits for it (or ctx) first

	mu    sync.Mutex
	files map[string]testFile // by hash
	dead  map[string]bool     // hashes whose sources died: Fetch fails

	searches atomic.Int32
	fetches  atomic.Int32
	rescans  atomic.Int32
}

type testFile struct {
	name    string
	path    string
	sources []api.Source
}

var _ Backend = (*testBackend)(nil)

func newTestBackend(t testing.TB) *testBackend {
	t.Helper()
	return &testBackend{t: t, cacheDir: t.TempDir(), files: make(map[string]testFile)}
}

// addFile writes data to a real file under name and offers it with n sources.
func (b *testBackend) addFile(name string, data []byte, n int) string {
	b.t.Helper()
	dir := b.t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.t.Fatal(err)
	}
	h, _, _, err := content.HashFile(p)
	if err != nil {
		b.t.Fatal(err)
	}
	var srcs []api.Source
	for i := range n {
		srcs = append(srcs, api.Source{Name: "node" + string(rune('a'+i)), Addr: "127.0.0.1:6346"})
	}
	b.mu.Lock()
	b.files[h.String()] = testFile{name: name, path: p, sources: srcs}
	b.mu.Unlock()
	return h.String()
}

// addPartialFile is addFile whose last partial of n sources are partial
// holders (downloads in progress).
func (b *testBackend) addPartialFile(name string, data []byte, n, partial int) string {
	b.t.Helper()
	h := b.addFile(name, data, n)
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := n - partial; i < n; i++ {
		b.files[h].sources[i].Partial = true
	}
	return h
}

func (b *testBackend) Search(ctx context.Context, req api.SearchRequest, fn func(api.Result)) api.SearchDone {
	b.searches.Add(1)
	start := time.Now()
	b.mu.Lock()
	var hits []api.Result
	for h, f := range b.files {
		match, exact := req.Hash == h, 0
		if req.Hash == "" {
			words := content.QueryWords(strings.Join(req.Words, " "))
			match, exact = query.MatchFile(words, content.Keywords(f.name))
		}
		if match {
			st, _ := os.Stat(f.path)
			hits = append(hits, api.Result{Name: f.name, Size: st.Size(), Hash: h, Exact: exact, Sources: f.sources})
		}
	}
	b.mu.Unlock()
	for _, r := range hits {
		// Sources grow: first one, then all.
		first := r
		first.Sources = r.Sources[:min(1, len(r.Sources))]
		fn(first)
		fn(r)
	}
	return api.SearchDone{Results: len(hits), Hits: len(hits), Elapsed: time.Since(start)}
}

var errNoSuchFile = errors.New("no peer has that file")

func (b *testBackend) Fetch(ctx context.Context, req api.GetRequest) (string, error) {
	b.fetches.Add(1)
	if b.gate != nil {
		select {
		case <-b.gate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	b.mu.Lock()
	f, ok := b.files[req.Hash]
	dead := b.dead[req.Hash]
	b.mu.Unlock()
	if !ok || dead {
		return "", errNoSuchFile
	}
	dst := filepath.Join(b.cacheDir, req.Hash)
	in, err := os.ReadFile(f.path)
	if err != nil {
		return "", err
	}
	return dst, os.WriteFile(dst, in, 0o644)
}

func (b *testBackend) Rescan() { b.rescans.Add(1) }

// Peers lists the first sources of the files as peers.
func (b *testBackend) Peers() []api.Peer {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[string]bool{}
	var out []api.Peer
	for _, f := range b.files {
		if len(f.sources) > 0 && !seen[f.sources[0].Name] {
			seen[f.sources[0].Name] = true
			out = append(out, api.Peer{Name: f.sources[0].Name, State: "alive"})
		}
	}
	return out
}

// Browse lists the files whose first source is peer, below folder.
func (b *testBackend) Browse(ctx context.Context, peer, folder string) (api.Listing, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := api.Listing{Peer: api.Source{Name: peer}, Folder: folder}
	for h, f := range b.files {
		if len(f.sources) == 0 || f.sources[0].Name != peer || (folder != "" && !strings.HasPrefix(f.name, folder+"/")) {
			continue
		}
		st, _ := os.Stat(f.path)
		l.Peer = f.sources[0]
		l.Files = append(l.Files, api.ListedFile{Path: f.name, Size: st.Size(), Hash: h})
	}
	if len(l.Files) == 0 {
		return l, errNoSuchFile
	}
	return l, nil
}

// quiet is the tests' logger.
var quiet = slog.New(slog.DiscardHandler)

// testServer starts a Server on 127.0.0.1:0 with cfg adjusted by mod.
func testServer(t testing.TB, b Backend, mod func(*Config)) (*Server, string) {
	t.Helper()
	cfg := Config{Listen: "127.0.0.1:0", NodeName: "test-node", Logger: quiet}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	s.loginDelay = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := s.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, "http://" + addr.String()
}

// newClient is an HTTP client with a cookie jar that does not follow
// redirects (tests look at them).
func newClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// newDeviceClient is newClient connecting from the loopback address ip:
// another device as the page sees it, with its own search and browse
// budget, so polling a page does not spend the budget of the phone
// (Chromium) the test drives next.
func newDeviceClient(t *testing.T, ip string) *http.Client {
	t.Helper()
	c := newClient(t)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

// get fetches url and returns the response with its body read.
func get(t *testing.T, c *http.Client, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, c, req)
}

// postForm posts a urlencoded form with the given Origin ("" for none).
func postForm(t *testing.T, c *http.Client, u, origin string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// csrfFrom extracts the form token from a rendered page.
func csrfFrom(t *testing.T, page string) string {
	t.Helper()
	const mark = `name="csrf" value="`
	i := strings.Index(page, mark)
	if i < 0 {
		t.Fatalf("no csrf field in page:\n%s", page)
	}
	rest := page[i+len(mark):]
	return rest[:strings.IndexByte(rest, '"')]
}
