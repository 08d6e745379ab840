//go:build linux

package transfer

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/servent-p2p/servent/storage"
)

// mountTmpfs mounts a small tmpfs for the test, or skips it.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func TestDownloadDiskFull(t *testing.T) {
	cat := newCatalog()
	f, data := share(t, cat, "big.bin", 4*storage.ChunkSize)
	_, srcs := peers(t, 1, cat)
	out := mountTmpfs(t, "size=2m")
	st := newState()
	_, err := newTestDownloader(t, st, nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "big.bin", OutDir: out, Sources: srcs})
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("err = %v, want ErrDiskFull", err)
	}
	t.Logf("error: %v", err)
	part := filepath.Join(out, "big.bin."+f.Hash.String()[:12]+".part")
	if !strings.Contains(err.Error(), "disk full writing "+part) || !strings.Contains(err.Error(), "rerun to resume") {
		t.Errorf("unclear error: %v", err)
	}
	if _, err := os.Stat(part); err != nil {
		t.Errorf("partial not kept: %v", err)
	}
	dl, err := st.GetDownload(f.Hash)
	if err != nil {
		t.Fatalf("state not kept: %v", err)
	}
	if n := countBits(dl.Verified, 4); n == 0 || n == 4 {
		t.Errorf("%d chunks marked verified on a 2 MiB disk", n)
	}

	// Resume elsewhere is a fresh start; resume in place after freeing
	// space completes: grow the tmpfs.
	if out, err := exec.Command("mount", "-o", "remount,size=8m", out).CombinedOutput(); err != nil {
		t.Skipf("remount: %v: %s", err, out)
	}
	res, err := newTestDownloader(t, st, nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "big.bin", OutDir: out, Sources: srcs})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	if res.ChunksResumed == 0 || res.ChunksResumed+res.ChunksFetched != 4 {
		t.Errorf("resumed %d fetched %d", res.ChunksResumed, res.ChunksFetched)
	}
}

func TestDownloadReadOnlyDir(t *testing.T) {
	cat := newCatalog()
	f, _ := share(t, cat, "x.bin", 1000)
	_, srcs := peers(t, 1, cat)
	out := mountTmpfs(t, "size=1m,ro")
	_, err := newTestDownloader(t, newState(), nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "x.bin", OutDir: out, Sources: srcs})
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("err = %v, want ErrReadOnly", err)
	}
	t.Logf("error: %v", err)
}
