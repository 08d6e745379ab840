package kit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlaceSelf(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "servent")
	if err := os.WriteFile(exe, []byte("v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	own := Target{"linux", "arm64"}
	dir, stick := filepath.Join(t.TempDir(), "kit"), t.TempDir()

	got, err := PlaceSelf(dir, exe, own, stick)
	if want := filepath.Join(dir, own.FileName()); err != nil || got != want {
		t.Fatalf("PlaceSelf = %q, %v; want %q", got, err, want)
	}
	// A copy with the same bytes (another file system) is kept, mtime and all.
	os.Remove(got)
	if err := os.WriteFile(got, []byte("v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(got)
	if _, err := PlaceSelf(dir, exe, own, stick); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(got); !os.SameFile(before, after) {
		t.Fatal("an identical copy was replaced")
	}
	// The executable replaced by a new build (a new file): the copy follows.
	os.Remove(exe)
	if err := os.WriteFile(exe, []byte("v2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := PlaceSelf(dir, exe, own, stick); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(got); string(b) != "v2" {
		t.Fatalf("offered %q after the binary changed, want v2", b)
	}
	// dir holding a kit that lists this platform: its binary stays.
	if err := writeSums(dir, []Binary{{Name: own.FileName(), SHA256: strings.Repeat("0", 64)}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte("v3"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := PlaceSelf(dir, exe, own); err != nil || got != "" {
		t.Fatalf("over a kit's binary: PlaceSelf = %q, %v; want nothing placed", got, err)
	}
	// Another kit folder that has this platform: nothing placed.
	if err := os.WriteFile(filepath.Join(stick, own.FileName()), []byte("kit"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := PlaceSelf(dir, exe, own, stick); err != nil || got != "" {
		t.Fatalf("with a kit binary: PlaceSelf = %q, %v; want nothing placed", got, err)
	}
}
