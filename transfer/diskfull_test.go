//go:build linux

package transfer

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/servent-p2p/servent/content"
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

// TestDownloadDiskFullUpFront: a file that cannot fit is refused before
// any chunk is fetched, and nothing is left behind.
func TestDownloadDiskFullUpFront(t *testing.T) {
	cat := newCatalog()
	f, data := share(t, cat, "big.bin", 4*content.ChunkSize)
	ps, srcs := peers(t, 1, cat)
	out := mountTmpfs(t, "size=2m")
	st := newState()
	_, err := newTestDownloader(t, st, nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "big.bin", OutDir: out, Sources: srcs})
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("err = %v, want ErrDiskFull", err)
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "needs 4194304 bytes") || !strings.Contains(err.Error(), "free in "+out) {
		t.Errorf("unclear error: %v", err)
	}
	if sent := ps[0].srv.Stats().BytesSent; sent != 0 {
		t.Errorf("%d file bytes fetched for a download that cannot fit", sent)
	}
	if left, _ := os.ReadDir(out); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}

	// With room, the same download goes through.
	if out, err := exec.Command("mount", "-o", "remount,size=8m", out).CombinedOutput(); err != nil {
		t.Skipf("remount: %v: %s", err, out)
	}
	res, err := newTestDownloader(t, st, nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "big.bin", OutDir: out, Sources: srcs})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
}

// TestDownloadDiskFullMidway: the disk fills up while a partial without
// reserved space (one from a file system without fallocate, say) is being
// resumed: a clear error, the partial and its verified chunks kept, and a
// rerun after freeing space completes.
func TestDownloadDiskFullMidway(t *testing.T) {
	const chunks = 8
	cat := newCatalog()
	f, data := share(t, cat, "big.bin", chunks*content.ChunkSize)
	_, srcs := peers(t, 1, cat)
	out := mountTmpfs(t, "size=12m")
	st := newState()
	opts := func(c *Config) { c.PerSource = 1 }

	// Run 1: interrupted after two chunks.
	ctx, cancel := context.WithCancel(testCtx(t))
	_, err := newTestDownloader(t, st, opts).Get(ctx, Request{Hash: f.Hash, Name: "big.bin", OutDir: out, Sources: srcs,
		Progress: func(p Progress) {
			if p.Done >= 2*content.ChunkSize {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted download: err = %v", err)
	}
	dl, err := st.GetDownload(f.Hash)
	if err != nil {
		t.Fatal(err)
	}
	done := countBits(dl.Verified, chunks)
	// Give back the space of every chunk not verified, as if it had never
	// been reserved, and let another program take all but 2 MiB of it.
	part := filepath.Join(out, "big.bin."+f.Hash.String()[:12]+".part")
	pf, err := os.OpenFile(part, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range chunks {
		if !bitSet(dl.Verified, i) {
			if err := unix.Fallocate(int(pf.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(i)*content.ChunkSize, content.ChunkSize); err != nil {
				t.Skipf("punch hole: %v", err)
			}
		}
	}
	pf.Close()
	var fs unix.Statfs_t
	if err := unix.Statfs(out, &fs); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(out, "filler")
	if err := os.WriteFile(filler, make([]byte, int64(fs.Bavail)*int64(fs.Bsize)-2<<20), 0o644); err != nil {
		t.Fatal(err)
	}

	// Run 2: runs out of space part-way.
	_, err = newTestDownloader(t, st, opts).Get(testCtx(t), Request{Hash: f.Hash, Name: "big.bin", OutDir: out, Sources: srcs})
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("err = %v, want ErrDiskFull", err)
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "disk full writing "+part) || !strings.Contains(err.Error(), "rerun to resume") {
		t.Errorf("unclear error: %v", err)
	}
	if _, err := os.Stat(part); err != nil {
		t.Errorf("partial not kept: %v", err)
	}
	dl, err = st.GetDownload(f.Hash)
	if err != nil {
		t.Fatalf("state not kept: %v", err)
	}
	if n := countBits(dl.Verified, chunks); n <= done || n == chunks {
		t.Errorf("%d chunks verified after run 2 (%d before) on a disk with room for 2 more", n, done)
	}

	// Run 3: space freed, the download completes without refetching.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	resumed := countBits(dl.Verified, chunks)
	res, err := newTestDownloader(t, st, opts).Get(testCtx(t), Request{Hash: f.Hash, Name: "big.bin", OutDir: out, Sources: srcs})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	if res.ChunksResumed != resumed || res.ChunksFetched != chunks-resumed {
		t.Errorf("resumed %d fetched %d, want %d and %d", res.ChunksResumed, res.ChunksFetched, resumed, chunks-resumed)
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
