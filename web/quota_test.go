package web

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// dirBytes is what a folder and its subfolders hold on disk, in bytes of
// regular files.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// TestUploadQuota: uploads stop at UploadQuota bytes in the drop folder
// (what was there before included), counted on disk; a refused upload
// leaves nothing; space the owner frees is seen again.
func TestUploadQuota(t *testing.T) {
	drop := filepath.Join(t.TempDir(), "drop")
	os.MkdirAll(filepath.Join(drop, "older"), 0o755)
	os.WriteFile(filepath.Join(drop, "older", "notes.txt"), []byte(strings.Repeat("n", 200)), 0o644)
	const quota = 100 << 10
	_, base := testServer(t, newTestBackend(t), func(c *Config) { c.DropDir = drop; c.MaxUpload = 80 << 10; c.UploadQuota = quota })
	c := newClient(t)
	_, page := get(t, c, base+"/")
	tok := csrfFrom(t, page)

	body := strings.Repeat("p", 60<<10)
	if resp, page := postUpload(t, c, base, base, tok, upFile{"first.jpg", body}); resp.StatusCode != http.StatusOK {
		t.Fatalf("first upload: status %d\n%s", resp.StatusCode, page)
	}
	resp, page := postUpload(t, c, base, base, tok, upFile{"second.jpg", body})
	if resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(page, "space for uploads is full") {
		t.Fatalf("upload past the quota: status %d\n%s", resp.StatusCode, page)
	}
	if got := dirBytes(t, drop); got != 200+60<<10 {
		t.Fatalf("drop folder holds %d bytes after a refused upload, want %d (no partial left)", got, 200+60<<10)
	}

	// Eight phones at once, 30 KiB each: the quota holds, whoever wins.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := postUpload(t, c, base, base, tok, upFile{"burst" + string(rune('a'+i)) + ".bin", strings.Repeat("b", 30<<10)})
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusInsufficientStorage {
				t.Errorf("concurrent upload: status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if got := dirBytes(t, drop); got > quota {
		t.Fatalf("drop folder holds %d bytes, quota %d", got, quota)
	} else {
		t.Logf("after 8 concurrent uploads: %d bytes of %d in the drop folder", got, quota)
	}

	// The owner moves the uploads out: there is room again.
	ents, _ := os.ReadDir(drop)
	for _, e := range ents {
		if !e.IsDir() {
			os.Remove(filepath.Join(drop, e.Name()))
		}
	}
	if resp, page := postUpload(t, c, base, base, tok, upFile{"second.jpg", body}); resp.StatusCode != http.StatusOK {
		t.Fatalf("upload after space was freed: status %d\n%s", resp.StatusCode, page)
	}
	if got := dirBytes(t, drop); got != 200+60<<10 {
		t.Errorf("drop folder holds %d bytes, want %d", got, 200+60<<10)
	}
}
