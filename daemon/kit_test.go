package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/kit"
)

// TestDamagedKitStopsStart: a kit binary that does not match its
// SHA256SUMS is never offered; the node says so and does not start.
func TestDamagedKitStopsStart(t *testing.T) {
	cfg := testConfig(t, 190, clusterOptions{routing: "smart", leavesPerUltrapeer: 30, meshDegree: 4, ttl: 4}, "")
	cfg.Kit = t.TempDir()
	win := kit.Target{GOOS: "windows", GOARCH: "amd64"}
	os.WriteFile(filepath.Join(cfg.Kit, win.FileName()), []byte("a damaged copy"), 0o755)
	os.WriteFile(filepath.Join(cfg.Kit, kit.SHA256File), []byte(strings.Repeat("ab", 32)+"  "+win.FileName()+"\n"), 0o644)
	d, err := New(cfg, quiet(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Start(context.Background()); !errors.Is(err, kit.ErrBadSum) {
		t.Fatalf("Start with a damaged kit: %v, want ErrBadSum", err)
	}
}

// TestKitLinkWorksBeforeScan: the phone page links the node's own binary
// as soon as the node starts, so fetching it must not wait for the first
// scan to catalogue the kit folder (a CI run once got "no source has the
// file" 50 ms after start).
func TestKitLinkWorksBeforeScan(t *testing.T) {
	cfg := testConfig(t, 191, clusterOptions{routing: "smart", leavesPerUltrapeer: 30, meshDegree: 4, ttl: 4}, "")
	exe := filepath.Join(t.TempDir(), "servent")
	if err := os.WriteFile(exe, []byte("a servent binary, as far as this test cares"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := kit.PlaceSelf(KitDir(cfg.Data), exe, kit.Own()); err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, quiet(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.loadKit(); err != nil {
		t.Fatal(err)
	}
	if len(d.kit) != 1 {
		t.Fatalf("kit offers %d binaries, want 1", len(d.kit))
	}
	d.fetcher = d.newFetcher(nil) // no network: the binary must come from the kit
	path, err := webBackend{d}.Fetch(context.Background(), api.GetRequest{Hash: d.kit[0].BLAKE3})
	if err != nil {
		t.Fatalf("fetching the kit binary before any scan: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.ReadFile(exe); string(got) != string(want) {
		t.Fatalf("the page would serve %q, want the binary", got)
	}
}
