package kit

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBuildReproducible builds the Windows binary twice, the second time
// with an empty build cache so that every package is compiled again, and
// requires identical bytes and checksum files. It takes minutes (a full
// cross-compile), so -short skips it.
func TestBuildReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds servent twice from scratch; run without -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	src, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	target := Target{"windows", "amd64"}
	build := func(out, cache string) {
		t.Helper()
		start := time.Now()
		bins, err := Build(ctx, Options{Out: out, Version: "test", Targets: []Target{target}, Source: src, GoCache: cache})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes, sha256 %s, in %v", bins[0].Name, bins[0].Size, bins[0].SHA256, time.Since(start).Round(time.Second))
	}
	a, b := t.TempDir(), filepath.Join(t.TempDir(), "elsewhere")
	build(a, "")
	build(b, t.TempDir())
	for _, name := range []string{target.FileName(), SHA256File, B3File} {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds of the same source", name)
		}
	}
	bins, err := ReadFolder(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 1 || bins[0].Target != target {
		t.Fatalf("ReadFolder = %+v, want the one %s binary", bins, target)
	}
}
