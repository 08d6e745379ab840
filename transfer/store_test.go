package transfer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/storage"
)

var (
	_ Catalog = (*storage.Store)(nil)
	_ State   = (*storage.Store)(nil)
)

// TestDownloadWithBadgerStore wires real badger stores: the serving node's
// catalog comes from a scan, the downloading node keeps its state in its own.
func TestDownloadWithBadgerStore(t *testing.T) {
	share := t.TempDir()
	if err := os.MkdirAll(filepath.Join(share, "sub dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := writeRandom(t, filepath.Join(share, "sub dir"), "movie.mkv", 5*content.ChunkSize+3, 5)
	serving, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serving.Close() })
	if _, err := serving.Scan(testCtx(t), []string{share}, storage.ScanOptions{}); err != nil {
		t.Fatal(err)
	}
	h, _, _, err := content.HashFile(filepath.Join(share, "sub dir", "movie.mkv"))
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t, "127.0.0.50", serving, ServerConfig{}, nil)

	downloading, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { downloading.Close() })
	res, err := newTestDownloader(t, downloading, nil).Get(testCtx(t), Request{Hash: h, Name: "movie.mkv", OutDir: t.TempDir(), Sources: []Source{p.source("server")}})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	if _, err := downloading.GetDownload(h); err == nil {
		t.Error("download state left in badger after success")
	}
}
