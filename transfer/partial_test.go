package transfer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/servent-p2p/servent/content"
)

// TestResumeCatchesCorruptChunk: a chunk the first run marked verified is
// damaged on disk before the second run (as if it never reached the disk
// before a crash). The second run reads the carried-over chunks back,
// finds it, fetches it again, and the file is right; the chunks fetched in
// the second run are not read back (verify once).
func TestResumeCatchesCorruptChunk(t *testing.T) {
	cat := newCatalog()
	f, data := share(t, cat, "crash.bin", 12*content.ChunkSize+5)
	_, srcs := peers(t, 1, cat)
	st := newState()
	out := t.TempDir()
	opts := func(c *Config) { c.PerSource = 1 }
	ctx, cancel := context.WithCancel(testCtx(t))
	res1, err := newTestDownloader(t, st, opts).Get(ctx, Request{Hash: f.Hash, Name: "crash.bin", OutDir: out, Sources: srcs,
		Progress: func(p Progress) {
			if p.Done >= 6*content.ChunkSize {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted download: err = %v", err)
	}
	saved, err := st.GetDownload(f.Hash)
	if err != nil {
		t.Fatal(err)
	}
	bad := -1
	for i := range content.NumChunks(f.Size) {
		if saved.IsVerified(i) {
			bad = i
			break
		}
	}
	if bad < 0 || res1.ChunksFetched < 2 {
		t.Fatalf("run 1 verified %d chunks; need two or more", res1.ChunksFetched)
	}
	part := filepath.Join(out, "crash.bin."+f.Hash.String()[:12]+".part")
	pf, err := os.OpenFile(part, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pf.WriteAt([]byte("not what was verified"), int64(bad)*content.ChunkSize+100); err != nil {
		t.Fatal(err)
	}
	pf.Close()

	res2, err := newTestDownloader(t, st, opts).Get(testCtx(t), Request{Hash: f.Hash, Name: "crash.bin", OutDir: out, Sources: srcs})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res2, data)
	n := content.NumChunks(f.Size)
	if res2.ChunksResumed != res1.ChunksFetched-1 || res2.ChunksFetched != n-res2.ChunksResumed {
		t.Errorf("run 1 fetched %d; run 2 resumed %d and fetched %d of %d: the damaged chunk was not caught once",
			res1.ChunksFetched, res2.ChunksResumed, res2.ChunksFetched, n)
	}
}

// TestPartialFileRefusesLinks: a symlink or a hard link planted at the
// partial file's predictable name is refused, and the file it points to
// is left alone.
func TestPartialFileRefusesLinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on windows")
	}
	cat := newCatalog()
	f, data := share(t, cat, "target.bin", 2*content.ChunkSize)
	_, srcs := peers(t, 1, cat)
	for _, kind := range []string{"symlink", "hardlink"} {
		t.Run(kind, func(t *testing.T) {
			out := t.TempDir()
			victim := filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
				t.Fatal(err)
			}
			part := filepath.Join(out, "target.bin."+f.Hash.String()[:12]+".part")
			link := os.Symlink
			if kind == "hardlink" {
				link = os.Link
			}
			if err := link(victim, part); err != nil {
				t.Skipf("cannot make a %s here: %v", kind, err)
			}
			_, err := newTestDownloader(t, newState(), nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "target.bin", OutDir: out, Sources: srcs})
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("err = %v, want ErrBadRequest", err)
			}
			if got, _ := os.ReadFile(victim); string(got) != "precious" {
				t.Errorf("the %s's target was changed: %q", kind, got)
			}
			// Removing the planted link lets the download go through.
			os.Remove(part)
			res, err := newTestDownloader(t, newState(), nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "target.bin", OutDir: out, Sources: srcs})
			if err != nil {
				t.Fatal(err)
			}
			checkDownloaded(t, res, data)
		})
	}
}
