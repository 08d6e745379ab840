package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
)

// fakeOps is a node for the control API: it answers from fixed values and
// records what it was asked.
type fakeOps struct {
	results   []api.Result
	browseErr error

	mu       sync.Mutex
	searched []api.SearchRequest
	deadline time.Duration // the browse context's time left
	folders  []api.FolderRequest
}

func (f *fakeOps) status() api.Status { return api.Status{Name: "n1", Members: 3} }
func (f *fakeOps) peers() []api.Peer  { return []api.Peer{{Name: "n2"}} }
func (f *fakeOps) shares() ([]api.Share, error) {
	return []api.Share{{Path: "a.txt", Size: 1}}, nil
}

// search reports its results, then waits for ctx when asked for "wait".
func (f *fakeOps) search(ctx context.Context, req api.SearchRequest, fn func(api.Result)) api.SearchDone {
	f.mu.Lock()
	f.searched = append(f.searched, req)
	f.mu.Unlock()
	for _, r := range f.results {
		fn(r)
	}
	if len(req.Words) > 0 && req.Words[0] == "wait" {
		<-ctx.Done()
	}
	return api.SearchDone{Results: len(f.results), Complete: ctx.Err() == nil}
}

func (f *fakeOps) get(_ context.Context, req api.GetRequest, progress func(api.Progress)) (*api.GetDone, error) {
	progress(api.Progress{Bytes: 1, Total: 1, Sources: 1})
	return &api.GetDone{Hash: req.Hash, Path: req.OutDir + "/x"}, nil
}

func (f *fakeOps) getFolder(_ context.Context, req api.FolderRequest, _ func(api.Progress)) (*api.GetDone, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.folders = append(f.folders, req)
	return &api.GetDone{Path: req.OutDir, Files: 2}, nil
}

func (f *fakeOps) browse(ctx context.Context, peer, folder string) (api.Listing, error) {
	if dl, ok := ctx.Deadline(); ok {
		f.mu.Lock()
		f.deadline = time.Until(dl)
		f.mu.Unlock()
	}
	return api.Listing{Peer: api.Source{Name: peer}, Folder: folder}, f.browseErr
}

const testHash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestControlSocket runs the CLI's client against the control API on a
// real socket, served from a fake node.
func TestControlSocket(t *testing.T) {
	dir := t.TempDir()
	ops := &fakeOps{results: []api.Result{{Name: "a.txt", Hash: testHash}, {Name: "b.txt"}}}
	c, err := startControl(dir, ops, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	cl := api.NewClient(dir)
	ctx := t.Context()
	if st, err := cl.Status(ctx); err != nil || st.Name != "n1" || st.Members != 3 {
		t.Errorf("status %+v, %v", st, err)
	}
	if p, err := cl.Peers(ctx); err != nil || len(p) != 1 || p[0].Name != "n2" {
		t.Errorf("peers %+v, %v", p, err)
	}
	if s, err := cl.Shares(ctx); err != nil || len(s) != 1 || s[0].Path != "a.txt" {
		t.Errorf("shares %+v, %v", s, err)
	}
	var evs []api.SearchEvent
	err = cl.Search(ctx, api.SearchRequest{Hash: strings.ToUpper(testHash)}, func(e api.SearchEvent) { evs = append(evs, e) })
	if err != nil || len(evs) != 3 || evs[0].Result.Name != "a.txt" || evs[2].Done == nil || evs[2].Done.Results != 2 {
		t.Fatalf("search events %+v, %v: want 2 results, then the summary", evs, err)
	}
	if got := ops.searched[0].Hash; got != testHash {
		t.Errorf("the node was asked for hash %q, want it normalised to %q", got, testHash)
	}
	var last api.GetEvent
	err = cl.Get(ctx, api.GetRequest{Hash: testHash, OutDir: dir}, func(e api.GetEvent) { last = e })
	if err != nil || last.Done == nil || last.Done.Path != dir+"/x" {
		t.Errorf("get: last event %+v, %v", last, err)
	}
	if l, err := cl.Browse(ctx, api.BrowseRequest{Peer: "n2", Folder: "docs"}); err != nil || l.Peer.Name != "n2" || l.Folder != "docs" {
		t.Errorf("browse %+v, %v", l, err)
	}
	if ops.deadline <= 0 || ops.deadline > browseTimeout {
		t.Errorf("browse ran with %v left, want at most the default %v", ops.deadline, browseTimeout)
	}
}

// TestControlSearchCancel: a client that goes away ends the search it
// asked for.
func TestControlSearchCancel(t *testing.T) {
	dir := t.TempDir()
	c, err := startControl(dir, &fakeOps{}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err = api.NewClient(dir).Search(ctx, api.SearchRequest{Words: []string{"wait"}}, func(api.SearchEvent) {})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("search of a client that gave up: %v", err)
	}
	// close waits for the handler: it returns only if the search ended.
}

// TestControlRefuses: requests the node must not see get a clear error
// with the right status.
func TestControlRefuses(t *testing.T) {
	ops := &fakeOps{}
	h := controlHandler(ops, quiet())
	tests := []struct {
		name, route string
		body        any
		browseErr   error
		want        int
		wantMsg     string
	}{
		{"no words", api.RouteSearch, api.SearchRequest{Words: []string{"--"}}, nil, 400, "nothing to search for"},
		{"bad hash", api.RouteSearch, api.SearchRequest{Hash: "zz"}, nil, 400, ""},
		{"unknown field", api.RouteSearch, map[string]any{"wordz": 1}, nil, 400, "bad request"},
		{"relative get", api.RouteGet, api.GetRequest{Hash: testHash, OutDir: "rel"}, nil, 400, "absolute"},
		{"relative folder", api.RouteGetFolder, api.FolderRequest{Peer: "n2", OutDir: "rel"}, nil, 400, "absolute"},
		{"folder of nobody", api.RouteGetFolder, api.FolderRequest{OutDir: "/tmp"}, nil, 400, "name the peer"},
		{"unknown peer", api.RouteBrowse, api.BrowseRequest{Peer: "zz"}, fmt.Errorf("%w: zz", ErrUnknownPeer), 404, "no such peer"},
		{"peer fails", api.RouteBrowse, api.BrowseRequest{Peer: "n2"}, errors.New("browse n2: timeout"), 502, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops.browseErr = tt.browseErr
			body, _ := json.Marshal(tt.body)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, tt.route, bytes.NewReader(body)))
			if w.Code != tt.want || !strings.Contains(w.Body.String(), tt.wantMsg) {
				t.Errorf("status %d %q, want %d %q", w.Code, w.Body.String(), tt.want, tt.wantMsg)
			}
		})
	}
	if len(ops.searched) != 0 || len(ops.folders) != 0 {
		t.Errorf("refused requests reached the node: %v %v", ops.searched, ops.folders)
	}
}
