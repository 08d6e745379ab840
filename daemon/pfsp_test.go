package daemon

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
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

// TestClusterPartialHolders is the blackout case: seeder S shares a file
// of 12 chunks; leaf A downloads it and is held after a few chunks (its
// progress callback blocks, so its download stays in progress); S leaves
// the network. Late leaf C then gets the file by hash: its search finds A,
// marked partial (A's index reached the ultrapeer with the partial entry),
// and C fetches A's chunks and waits, searching again, for the rest. A
// whole copy joins and C's get completes from it: every byte verified, the
// chunks A held not fetched again. Without partial hits C's search finds
// nothing once S is gone, and its get fails at once.
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
			cfg.PartialWait = 15 * time.Second
		}
	}}
	c := startCluster(t, o)
	c.settled(30 * time.Second)
	up, seeder, holder, late := c.nodes[pfspUltrapeer], c.nodes[pfspSeeder], c.nodes[pfspHolder], c.nodes[pfspLate]

	// A fetches from S and is held after 3 chunks, its download in progress.
	held, release := make(chan int64, 1), make(chan struct{})
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	defer close(release)
	holderDir, lateDir := t.TempDir(), t.TempDir()
	wg.Go(func() {
		once := sync.Once{}
		holder.fetcher.get(ctx, api.GetRequest{Hash: h.String(), OutDir: holderDir}, func(p api.Progress) {
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

	// C gets what A has and waits, searching again, for the rest.
	aBytes := heldBytes(t, holder, h, int64(len(data)))
	var got atomic.Int64
	type outcome struct {
		done *api.GetDone
		err  error
	}
	result := make(chan outcome, 1)
	wg.Go(func() {
		done, err := late.fetcher.get(ctx, api.GetRequest{Hash: h.String(), OutDir: lateDir}, func(p api.Progress) { got.Store(p.Bytes) })
		result <- outcome{done, err}
	})
	eventually(t, 15*time.Second, "the late downloader gets the holder's chunks", func() bool { return got.Load() >= aBytes })

	// A whole copy joins; C finds it and completes from it.
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
	var r outcome
	select {
	case r = <-result:
	case <-time.After(30 * time.Second):
		t.Fatal("the late download did not complete once a whole copy joined")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	file, err := os.ReadFile(r.done.Path)
	if err != nil || !bytes.Equal(file, data) {
		t.Fatalf("downloaded file differs (%v)", err)
	}
	// A serves more than it held when S left: it learns the new copy from
	// C in the download mesh, fetches from it and serves on.
	if from := r.done.Sources; from[holder.ov.Name()] < aBytes || from[holder.ov.Name()]+from[second.ov.Name()] != int64(len(data)) {
		t.Errorf("bytes by source %v: want at least %d from the partial holder, the rest from %s", from, aBytes, second.ov.Name())
	}
	t.Logf("the holder held %d bytes when the seeder left; bytes by source %v", aBytes, r.done.Sources)
}

// heldBytes is how many bytes of the file of hash h and size size the
// node has verified, as its download state says.
func heldBytes(t *testing.T, d *Daemon, h content.Hash, size int64) int64 {
	t.Helper()
	dl, err := d.store.GetDownload(h)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for c := range content.NumChunks(size) {
		if dl.Verified[c/8]&(1<<(c%8)) != 0 {
			_, length := content.ChunkSpan(c, size)
			n += int64(length)
		}
	}
	return n
}
