package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/transfer"
)

// fakeGetter "downloads" from memory: a file is there when one of the
// request's sources is alive and its content is known.
type fakeGetter struct {
	content map[content.Hash][]byte
	alive   []string

	mu   sync.Mutex
	reqs []transfer.Request
}

func (g *fakeGetter) Get(_ context.Context, req transfer.Request) (transfer.Result, error) {
	g.mu.Lock()
	g.reqs = append(g.reqs, req)
	g.mu.Unlock()
	b, ok := g.content[req.Hash]
	i := slices.IndexFunc(req.Sources, func(s transfer.Source) bool { return slices.Contains(g.alive, s.Name) })
	if !ok || i < 0 {
		return transfer.Result{}, fmt.Errorf("%w: none answers", transfer.ErrNoSources)
	}
	path := filepath.Join(req.OutDir, req.Name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return transfer.Result{}, err
	}
	if req.Progress != nil {
		req.Progress(transfer.Progress{Done: int64(len(b)), Size: int64(len(b)), Sources: 1})
	}
	use := []transfer.SourceUse{{Name: req.Sources[i].Name, Bytes: int64(len(b))}}
	return transfer.Result{Path: path, Size: int64(len(b)), Hash: req.Hash, Sources: use}, nil
}

// fakeFinder answers hash searches with fixed results.
type fakeFinder struct {
	results []api.Result
	asked   int
}

func (f *fakeFinder) search(_ context.Context, req api.SearchRequest, fn func(api.Result)) api.SearchDone {
	f.asked++
	for _, r := range f.results {
		fn(r)
	}
	return api.SearchDone{}
}

// fakeFetchNet leaves out sources called "outsider", lists one listing,
// and holds some local files.
type fakeFetchNet struct {
	listing api.Listing
	local   map[content.Hash][]byte
}

func (n *fakeFetchNet) dialable(in []transfer.Source) []transfer.Source {
	return slices.DeleteFunc(slices.Clone(in), func(s transfer.Source) bool { return s.Name == "outsider" })
}

func (n *fakeFetchNet) browse(context.Context, string, string) (api.Listing, error) {
	return n.listing, nil
}

func (n *fakeFetchNet) openLocal(h content.Hash) (io.ReadCloser, int64, string, error) {
	b, ok := n.local[h]
	if !ok {
		return nil, 0, "", errors.New("not here")
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), "local", nil
}

func hashOf(t *testing.T, b []byte) content.Hash {
	t.Helper()
	h, _, err := content.HashReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func src(name string) api.Source { return api.Source{Name: name, Addr: "127.0.0.1:1"} }

// newFakeFetcher returns a fetcher over fakes, downloading contents.
func newFakeFetcher(t *testing.T, contents ...[]byte) (*fetcher, *fakeGetter, *fakeFinder, *fakeFetchNet) {
	g := &fakeGetter{content: map[content.Hash][]byte{}}
	for _, b := range contents {
		g.content[hashOf(t, b)] = b
	}
	finder, net := &fakeFinder{}, &fakeFetchNet{local: map[content.Hash][]byte{}}
	dir := t.TempDir()
	f := &fetcher{sources: finder, getter: g, net: net, shareDir: filepath.Join(dir, "shared"), rescan: func() {}, log: quiet(),
		cache: &webCache{dir: filepath.Join(dir, "web-cache"), max: 1 << 20, log: quiet()}}
	return f, g, finder, net
}

// TestFetcherFindsSources: a get without sources takes those a hash search
// finds (only for that hash, only dialable ones) and the name found, made
// safe.
func TestFetcherFindsSources(t *testing.T) {
	body := []byte("evacuation plan")
	f, g, finder, _ := newFakeFetcher(t, body)
	h := hashOf(t, body)
	g.alive = []string{"n1"}
	finder.results = []api.Result{
		{Name: "../../etc/plan.txt", Hash: h.String(), Sources: []api.Source{src("outsider"), src("n1")}},
		{Name: "other.txt", Hash: strings.Repeat("0", 64), Sources: []api.Source{src("n9")}},
	}
	out := t.TempDir()
	done, err := f.get(t.Context(), api.GetRequest{Hash: h.String(), OutDir: out}, func(api.Progress) {})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(out, "plan.txt"))
	if done.Path != filepath.Join(out, "plan.txt") || !bytes.Equal(got, body) || done.Sources["n1"] != int64(len(body)) {
		t.Errorf("done %+v, file %q", done, got)
	}
	if srcs := g.reqs[0].Sources; len(srcs) != 1 || srcs[0].Name != "n1" {
		t.Errorf("dialled %v, want only n1", srcs)
	}
}

// TestFetcherAsksAgain: when the sources given are gone, the network is
// asked again; when nobody has the file, the error says so.
func TestFetcherAsksAgain(t *testing.T) {
	body := []byte("water points")
	f, g, finder, _ := newFakeFetcher(t, body)
	h := hashOf(t, body)
	g.alive = []string{"n2"}
	req := api.GetRequest{Hash: h.String(), Name: "water.txt", OutDir: t.TempDir(), Sources: []api.Source{src("gone")}}
	_, err := f.download(t.Context(), req, nil)
	if !errors.Is(err, transfer.ErrNoSources) || !strings.Contains(err.Error(), "no peer can serve") || finder.asked != 1 {
		t.Fatalf("nobody has it: %v after %d searches", err, finder.asked)
	}
	finder.results = []api.Result{{Hash: h.String(), Sources: []api.Source{src("n2")}}}
	res, err := f.download(t.Context(), req, nil)
	if err != nil || filepath.Base(res.Path) != "water.txt" || finder.asked != 2 || len(g.reqs) != 3 {
		t.Errorf("%+v, %v after %d searches, %d gets: want a second get from the fresh source", res, err, finder.asked, len(g.reqs))
	}
}

// TestFetcherShare: a get with Share links the file into the shared folder
// and asks for a rescan.
func TestFetcherShare(t *testing.T) {
	body := []byte("map")
	f, g, _, _ := newFakeFetcher(t, body)
	g.alive = []string{"n1"}
	rescans := 0
	f.rescan = func() { rescans++ }
	req := api.GetRequest{Hash: hashOf(t, body).String(), Name: "map.txt", OutDir: t.TempDir(), Sources: []api.Source{src("n1")}, Share: true}
	done, err := f.get(t.Context(), req, func(api.Progress) {})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(f.shareDir, "map.txt"))
	if !done.Shared || !bytes.Equal(got, body) || rescans != 1 {
		t.Errorf("shared %v, %q in the shared folder, %d rescans", done.Shared, got, rescans)
	}
}

// TestFetcherFolder: a folder download creates the folder's structure,
// downloads each content once (a duplicate is copied), keeps files an
// earlier run saved, and on an error says how to resume.
func TestFetcherFolder(t *testing.T) {
	a, b, k := []byte("file a"), []byte("file b"), []byte("kept")
	f, g, _, net := newFakeFetcher(t, a, b, k)
	g.alive = []string{"n1"}
	entry := func(p string, c []byte) api.ListedFile {
		return api.ListedFile{Path: p, Size: int64(len(c)), Hash: hashOf(t, c).String()}
	}
	net.listing = api.Listing{Peer: src("n1"), Folder: "docs", Files: []api.ListedFile{
		entry("docs/a.txt", a), entry("docs/sub/b.txt", b), entry("docs/copy.txt", a), entry("docs/kept.txt", k),
	}}
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "docs"), 0o755)
	os.WriteFile(filepath.Join(out, "docs", "kept.txt"), k, 0o644)
	done, err := f.getFolder(t.Context(), api.FolderRequest{Peer: "n1", Folder: "docs", OutDir: out}, func(api.Progress) {})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string][]byte{"a.txt": a, "sub/b.txt": b, "copy.txt": a, "kept.txt": k} {
		if got, _ := os.ReadFile(filepath.Join(out, "docs", p)); !bytes.Equal(got, want) {
			t.Errorf("%s holds %q, want %q", p, got, want)
		}
	}
	if len(g.reqs) != 2 || done.Files != 4 || done.Kept != 1 || !done.Resumed || done.Sources["n1"] != int64(len(a)+len(b)) {
		t.Errorf("%d gets, done %+v: want 2 gets, 4 files, 1 kept", len(g.reqs), done)
	}

	net.listing.Files = append(net.listing.Files, api.ListedFile{Path: "docs/lost.txt", Size: 1, Hash: strings.Repeat("1", 64)})
	_, err = f.getFolder(t.Context(), api.FolderRequest{Peer: "n1", Folder: "docs", OutDir: out}, func(api.Progress) {})
	if !errors.Is(err, transfer.ErrNoSources) || !strings.Contains(err.Error(), "lost.txt") || !strings.Contains(err.Error(), "run the same command again") {
		t.Errorf("a file nobody has: %v", err)
	}
}

// TestFetcherCached: the phone page's cache takes the node's own file
// without the network, and downloads what the node lacks.
func TestFetcherCached(t *testing.T) {
	own, remote := []byte("own kit binary"), []byte("a neighbour's file")
	f, g, _, net := newFakeFetcher(t, remote)
	g.alive = []string{"n1"}
	net.local[hashOf(t, own)] = own
	for _, c := range [][]byte{own, remote} {
		path, err := f.fetchCached(t.Context(), api.GetRequest{Hash: hashOf(t, c).String(), Sources: []api.Source{src("n1")}})
		if got, _ := os.ReadFile(path); err != nil || !bytes.Equal(got, c) || filepath.Dir(path) != f.cache.dir {
			t.Errorf("cached %s %q, %v; want %q in the cache", path, got, err, c)
		}
	}
	if len(g.reqs) != 1 {
		t.Errorf("%d downloads, want 1 (the own file needs none)", len(g.reqs))
	}
}
