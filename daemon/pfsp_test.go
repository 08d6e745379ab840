package daemon

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/transfer"
	"github.com/servent-p2p/servent/ultrapeer"
)

// TestRouteTableHasPartialHashes: a partial entry's hash is in the QRP
// table (hash queries reach its holder), its name's words are not.
func TestRouteTableHasPartialHashes(t *testing.T) {
	r := ultrapeer.NewRegistry(0)
	h := content.Hash{9}
	r.ApplySelf(ultrapeer.Owner{ID: "me"}, ultrapeer.Update{Full: true, ToVersion: 1,
		Add: []ultrapeer.Entry{{Path: "zanzibar.bin", Size: 1, Hash: h, Partial: true}}})
	table := registryTables{r}.routeTable()
	if !table.MatchQuery(&query.Query{Hash: h}, nil) {
		t.Error("the table does not route a query for the partial file's hash")
	}
	if table.Contains("zanzibar") {
		t.Error("the table holds the partial file's name")
	}
}

// pfspNodes are the roles in TestClusterPartialHolders.
const (
	pfspUltrapeer = iota
	pfspSeeder
	pfspHolder
	pfspLate
	pfspSecondSeeder
)

// pfspFileChunks is the size of the file in chunks.
const pfspFileChunks = 12

// TestClusterPartialHolders is the blackout case: seeder S
// shares a file of 12 chunks; leaf A downloads it and is held after a few
// chunks (its progress callback blocks, so its download stays in
// progress); S leaves the network. Late leaf C then gets the file by
// hash: its search finds A, marked partial (A's index reached the
// ultrapeer with the partial entry), C fetches A's chunks and, with no
// whole copy anywhere, stops after partial_wait with the partial kept.
// Another seeder joins and C's same get completes, resuming: every byte
// verified, the chunks A held not fetched again. Without partial hits C's
// search finds nothing once S is gone.
func TestClusterPartialHolders(t *testing.T) {
	if testing.Short() {
		t.Skip("5 real nodes: skipped with -short")
	}
	data := make([]byte, pfspFileChunks*content.ChunkSize-1000)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	h, _, err := content.HashReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	o := clusterOptions{nodes: 4, routing: "smart", configure: func(i int, cfg *configs.Config) {
		cfg.Role = "leaf"
		switch i {
		case pfspUltrapeer:
			cfg.Role = "ultrapeer"
		case pfspSeeder:
			os.WriteFile(filepath.Join(cfg.Shares[0], "map.bin"), data, 0o644)
		case pfspLate:
			cfg.PartialWait = 2 * time.Second
		}
	}}
	c := startCluster(t, o)
	c.settled(30 * time.Second)
	up, seeder, holder, late := c.nodes[pfspUltrapeer], c.nodes[pfspSeeder], c.nodes[pfspHolder], c.nodes[pfspLate]

	// A fetches from S and is held after 3 chunks, its download in progress.
	held, release := make(chan int64, 1), make(chan struct{})
	holderCtx, stopHolder := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopHolder()
	defer close(release)
	wg.Go(func() {
		once := sync.Once{}
		holder.fetcher.get(holderCtx, api.GetRequest{Hash: h.String(), OutDir: t.TempDir()}, func(p api.Progress) {
			if p.Bytes >= 3*content.ChunkSize {
				once.Do(func() { held <- p.Bytes })
				<-release
			}
		})
	})
	select {
	case <-held:
	case <-time.After(20 * time.Second):
		t.Fatal("the holder's download did not start")
	}
	seeder.Close()

	// The ultrapeer indexes A's partial entry, and S's entry is gone.
	holds := func() (partial, whole int) {
		for _, m := range up.registry.Match(nil, &h, 0) {
			for _, e := range m.Entries {
				if e.Partial {
					partial++
				} else {
					whole++
				}
			}
		}
		return partial, whole
	}
	eventually(t, 15*time.Second, "the ultrapeer indexes the holder's partial file only", func() bool { p, w := holds(); return p == 1 && w == 0 })

	// C's search by hash finds A, marked partial.
	var found api.Result
	late.searcher.search(context.Background(), api.SearchRequest{Hash: h.String(), Timeout: 3 * time.Second}, func(r api.Result) { found = r })
	if len(found.Sources) != 1 || found.Sources[0].Name != holder.ov.Name() || !found.Sources[0].Partial {
		t.Fatalf("search by hash found %+v: want the holder, partial", found)
	}

	// C gets what A has, then stops for want of the rest, partial kept.
	out := t.TempDir()
	var got int64
	_, err = late.fetcher.get(context.Background(), api.GetRequest{Hash: h.String(), OutDir: out}, func(p api.Progress) { got = max(got, p.Bytes) })
	if !errors.Is(err, transfer.ErrNoSources) || !strings.Contains(err.Error(), "chunks are still missing") {
		t.Fatalf("get with the partial holder only: %v, want no sources, chunks missing", err)
	}
	served := holder.server.Stats().PartialUploads
	if got < 3*content.ChunkSize || served < 3 {
		t.Fatalf("got %d bytes, the holder served %d chunks: want at least 3 chunks from the holder", got, served)
	}

	// A whole copy joins; C's same get resumes and completes from it.
	cfg := testConfig(t, pfspSecondSeeder, o, up.ov.LocalAddr().String())
	cfg.Role = "leaf"
	os.WriteFile(filepath.Join(cfg.Shares[0], "copy of map.bin"), data, 0o644)
	second, err := New(cfg, nodeLog(t, cfg.Name), "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	eventually(t, 20*time.Second, "the ultrapeer indexes the second seeder's file", func() bool { _, w := holds(); return w == 1 })
	done, err := late.fetcher.get(context.Background(), api.GetRequest{Hash: h.String(), OutDir: out}, func(api.Progress) {})
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(done.Path)
	if err != nil || !bytes.Equal(file, data) {
		t.Fatalf("downloaded file differs (%v)", err)
	}
	if !done.Resumed || done.Sources[second.ov.Name()] != int64(len(data))-got {
		t.Errorf("resumed %v, sources %v: want the %d bytes got from the holder kept, the rest from %s", done.Resumed, done.Sources, got, second.ov.Name())
	}
	t.Logf("the holder served %d chunks to the late downloader before a whole copy came back", served)
}
