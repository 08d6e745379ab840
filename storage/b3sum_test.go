package storage

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/servent-p2p/servent/content"
)

// TestScanMatchesB3sum checks catalog hashes against the reference BLAKE3
// implementation's command-line tool, when it is installed.
func TestScanMatchesB3sum(t *testing.T) {
	b3sum, err := exec.LookPath("b3sum")
	if err != nil {
		t.Skip("b3sum not installed (apt-get install b3sum)")
	}
	share := t.TempDir()
	for name, size := range map[string]int{"empty": 0, "small": 1000, "multi": 3*content.ChunkSize + 12345} {
		data := make([]byte, size)
		rand.Read(data)
		if err := os.WriteFile(filepath.Join(share, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := openTest(t, "")
	scan(t, s, []string{share}, ScanOptions{})
	for path, f := range paths(t, s) {
		out, err := exec.Command(b3sum, "--no-names", f.FullPath()).Output()
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.TrimSpace(string(out)); f.Hash.String() != want {
			t.Errorf("%s: catalog %s, b3sum %s", path, f.Hash, want)
		}
	}
}
