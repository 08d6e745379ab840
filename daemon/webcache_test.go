package daemon

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/servent-p2p/servent/configs"
)

// TestWebCacheLRU fetches files through the phone page of a node with a
// 1 MiB cache and counts the bytes in its cache folder after each: never
// more than 1 MiB but for a file bigger than the cache while it is served,
// and the least recently used file is the one that goes.
func TestWebCacheLRU(t *testing.T) {
	files := map[string][]byte{}
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		files[name] = bytes.Repeat([]byte(name), 300<<10)
	}
	files["big"] = bytes.Repeat([]byte("B"), 1536<<10)
	d := startNodes(t, 1, clusterOptions{routing: "smart"}, func(_ int, cfg *configs.Config) {
		cfg.WebListen = "127.0.10.1:0"
		cfg.WebCacheMiB = 1
		for name, body := range files {
			os.WriteFile(filepath.Join(cfg.Shares[0], name+".bin"), body, 0o644)
		}
	})[0]
	hashes := map[string]string{}
	eventually(t, 20*time.Second, "the shares scanned", func() bool {
		all, err := d.store.Files()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range all {
			hashes[filepath.Base(f.Path)] = f.Hash.String()
		}
		return len(hashes) == len(files)+1
	})
	byHash := map[string]string{}
	for name, h := range hashes {
		byHash[h] = name
	}
	cacheDir := filepath.Join(d.cfg.Data, "web-cache")
	base := "http://" + d.web.Addr().String() + "/"
	c := webClient(t)
	// A page search shows the files, so their links are not charged as
	// searches of unknown hashes.
	if resp, page := webGet(t, c, base+"?q=bin"); resp.StatusCode != http.StatusOK || !bytes.Contains([]byte(page), []byte("big.bin")) {
		t.Fatalf("page search: status %d\n%s", resp.StatusCode, page)
	}
	fetch := func(name string) (cached []string, bytesOnDisk int64) {
		t.Helper()
		resp, body := webGet(t, c, base+"dl/"+hashes[name+".bin"])
		if resp.StatusCode != http.StatusOK || body != string(files[name]) {
			t.Fatalf("%s through the page: status %d, %d bytes", name, resp.StatusCode, len(body))
		}
		ents, err := os.ReadDir(cacheDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			bytesOnDisk += info.Size()
			cached = append(cached, byHash[e.Name()])
		}
		slices.Sort(cached)
		return cached, bytesOnDisk
	}
	const max = 1 << 20
	steps := []struct {
		fetch string
		want  []string
	}{
		{"a", []string{"a.bin"}},
		{"b", []string{"a.bin", "b.bin"}},
		{"c", []string{"a.bin", "b.bin", "c.bin"}},
		{"a", []string{"a.bin", "b.bin", "c.bin"}}, // a is used again: b is now the oldest
		{"d", []string{"a.bin", "c.bin", "d.bin"}},
		{"e", []string{"a.bin", "d.bin", "e.bin"}},
		{"big", []string{"big.bin"}}, // bigger than the cache: kept alone while served
		{"c", []string{"c.bin"}},
	}
	for i, st := range steps {
		time.Sleep(10 * time.Millisecond) // distinct modification times
		got, n := fetch(st.fetch)
		t.Logf("step %d, %s: cache holds %v, %d bytes on disk", i, st.fetch, got, n)
		if !slices.Equal(got, st.want) {
			t.Errorf("step %d, %s: cache holds %v, want %v", i, st.fetch, got, st.want)
		}
		if n > max && st.fetch != "big" {
			t.Errorf("step %d, %s: %d bytes in the cache, max %d", i, st.fetch, n, max)
		}
	}
}

func TestEvictions(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	files := []cachedFile{
		{name: "old", size: 400, used: at(1), complete: true},
		{name: "partial", size: 300, used: at(0)},
		{name: "mid", size: 400, used: at(2), complete: true},
		{name: "new", size: 400, used: at(3), complete: true},
	}
	tests := []struct {
		max  int64
		keep string
		want []string
	}{
		{1500, "", nil},
		{1100, "", []string{"old"}},
		{800, "", []string{"old", "mid"}},
		{800, "old", []string{"mid", "new"}},
		{100, "new", []string{"old", "mid"}}, // the partial and the kept file stay
	}
	for _, tt := range tests {
		var got []string
		for _, f := range evictions(files, tt.max, tt.keep) {
			got = append(got, f.name)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("max %d keep %q: evict %v, want %v", tt.max, tt.keep, got, tt.want)
		}
	}
}
