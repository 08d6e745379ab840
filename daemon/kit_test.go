package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
