package daemon

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/servent-p2p/servent/configs"
)

func TestKeyFileOpen(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix modes")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		open bool
	}{{0o600, false}, {0o400, false}, {0o640, true}, {0o644, true}, {0o606, true}} {
		p := filepath.Join(dir, tc.mode.String())
		if err := os.WriteFile(p, []byte("words\n"), tc.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, tc.mode) // umask
		if got := keyFileOpen(p) != ""; got != tc.open {
			t.Errorf("mode %v: open=%v, want %v", tc.mode, got, tc.open)
		}
	}
	if keyFileOpen("") != "" {
		t.Error("no key file reported open")
	}
}

func TestDataDirClosed(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix modes")
	}
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	cfg, err := configs.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Data = filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(cfg.Data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(cfg.Data, 0o755)
	d, err := New(cfg, quiet(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := os.Stat(cfg.Data)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("existing data dir left at %v, want 0700 (it holds the node's key)", st.Mode().Perm())
	}
}
