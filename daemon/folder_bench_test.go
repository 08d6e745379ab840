package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
)

// benchFiles is the folder of BenchmarkFolderDownload.
const benchFiles = 200

// BenchmarkFolderDownload measures a folder of 200 small files (1-2 KiB)
// fetched between two in-process nodes on loopback: as one folder
// download with 1, 2, 4 and 8 files at a time and, as the baseline in the same
// run, as 200 single-file downloads one after the other, the way a user
// without folders would. It reports milliseconds per file.
//
//	go test -run '^$' -bench FolderDownload -benchtime 3x ./daemon
func BenchmarkFolderDownload(b *testing.B) {
	o := clusterOptions{routing: "smart", leavesPerUltrapeer: 2, meshDegree: 4, ttl: 4}
	start := func(i int, seed string, shares []string) *Daemon {
		cfg := testConfig(b, i, o, seed)
		if shares != nil {
			cfg.Shares = shares
		}
		return startOne(b, cfg)
	}
	share := b.TempDir()
	for i := range benchFiles {
		p := filepath.Join(share, "drill", fmt.Sprintf("%02d", i%10), fmt.Sprintf("tile-%04d.txt", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, fmt.Appendf(nil, "tile %d %0*d", i, 1024+i*5, 0), 0o644)
	}
	seeder := start(40, "", []string{share})
	getter := start(41, seeder.ov.LocalAddr().String(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var l api.Listing
	for deadline := time.Now().Add(30 * time.Second); len(l.Files) < benchFiles; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("the getter lists %d of %d files", len(l.Files), benchFiles)
		}
		l, _ = getter.browser.browse(ctx, seeder.ov.Name(), "drill")
	}
	perFile := func(b *testing.B, start time.Time) {
		b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N*benchFiles), "ms/file")
	}
	for _, workers := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("folder-workers-%d", workers), func(b *testing.B) {
			defer func(w int) { folderWorkers = w }(folderWorkers)
			folderWorkers = workers
			began := time.Now()
			for range b.N {
				req := api.FolderRequest{Peer: seeder.ov.Name(), Folder: "drill", OutDir: b.TempDir()}
				if _, err := getter.fetcher.getFolder(ctx, req, func(api.Progress) {}); err != nil {
					b.Fatal(err)
				}
			}
			perFile(b, began)
			st := seeder.server.Stats()
			b.Logf("seeder: %d uploads, %d busy, %d refused", st.Uploads, st.Busy, st.Refused)
		})
	}
	b.Run("single-gets", func(b *testing.B) {
		began := time.Now()
		for range b.N {
			out := b.TempDir()
			for _, f := range l.Files {
				req := api.GetRequest{Hash: f.Hash, OutDir: out, Sources: []api.Source{l.Peer}}
				if _, err := getter.fetcher.download(ctx, req, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
		perFile(b, began)
	})
}
