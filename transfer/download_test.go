package transfer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/storage"
)

// share creates a file of size bytes in a fresh share, catalogs it, and
// returns its catalog entry and bytes.
func share(t *testing.T, cat *dirCatalog, name string, size int64) (File, []byte) {
	t.Helper()
	root := t.TempDir()
	data := writeRandom(t, root, name, size, uint64(size))
	return cat.add(t, root, name), data
}

// peers starts n peers on 127.0.0.2.. serving cat.
func peers(t *testing.T, n int, cat Catalog) ([]*peer, []Source) {
	t.Helper()
	var ps []*peer
	var srcs []Source
	for i := range n {
		p := newPeer(t, "127.0.0."+string(rune('2'+i)), cat, ServerConfig{}, nil)
		ps = append(ps, p)
		srcs = append(srcs, p.source("peer"+string(rune('A'+i))))
	}
	return ps, srcs
}

func TestDownloadOneSource(t *testing.T) {
	for _, size := range []int64{0, 1, content.ChunkSize, 3*content.ChunkSize + 12345} {
		cat := newCatalog()
		f, data := share(t, cat, "file.bin", size)
		_, srcs := peers(t, 1, cat)
		st := newState()
		out := t.TempDir()
		res, err := newTestDownloader(t, st, nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "file.bin", OutDir: out, Sources: srcs})
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		checkDownloaded(t, res, data)
		if res.Path != filepath.Join(out, "file.bin") || res.Renamed || res.Size != size || len(res.Liars) != 0 {
			t.Errorf("size %d: result %+v", size, res)
		}
		if st.has(f.Hash) {
			t.Errorf("size %d: download state left after success", size)
		}
	}
}

func TestDownloadThreeSources(t *testing.T) {
	cat := newCatalog()
	f, data := share(t, cat, "three.bin", 24*content.ChunkSize+777)
	ps, srcs := peers(t, 3, cat)
	var reports atomic.Int64
	res, err := newTestDownloader(t, newState(), nil).Get(testCtx(t), Request{Hash: f.Hash, Size: f.Size, Name: "three.bin",
		OutDir: t.TempDir(), Sources: srcs, Progress: func(Progress) { reports.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	if res.ChunksFetched != content.NumChunks(f.Size) {
		t.Errorf("fetched %d chunks, want %d", res.ChunksFetched, content.NumChunks(f.Size))
	}
	for i, p := range ps {
		s := p.srv.Stats()
		if s.BytesSent == 0 || s.Uploads == 0 || res.Sources[i].Bytes == 0 {
			t.Errorf("peer %d served nothing: %+v, use %+v", i, s, res.Sources[i])
		}
		t.Logf("peer %d: %d uploads, %d bytes, per peer %v", i, s.Uploads, s.BytesSent, s.PerPeer)
	}
	if reports.Load() < int64(res.ChunksFetched) {
		t.Errorf("%d progress reports for %d chunks", reports.Load(), res.ChunksFetched)
	}
}

func TestDownloadSourceKilled(t *testing.T) {
	cat := newCatalog()
	f, data := share(t, cat, "killed.bin", 24*content.ChunkSize)
	ps, srcs := peers(t, 3, cat)
	var once sync.Once
	res, err := newTestDownloader(t, newState(), nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "killed.bin",
		OutDir: t.TempDir(), Sources: srcs, Progress: func(p Progress) {
			if p.Done >= p.Size/3 {
				once.Do(func() { go ps[0].kill() })
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	t.Logf("sources: %+v", res.Sources)
	if res.Sources[1].Bytes == 0 || res.Sources[2].Bytes == 0 {
		t.Errorf("surviving sources served nothing: %+v", res.Sources)
	}
}

// corrupting flips one byte of every file body it serves.
func corrupting(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/f/") {
			w = &flipWriter{ResponseWriter: w}
		}
		h.ServeHTTP(w, r)
	})
}

type flipWriter struct {
	http.ResponseWriter
	flipped bool
}

func (f *flipWriter) Write(p []byte) (int, error) {
	if !f.flipped && len(p) > 0 {
		q := append([]byte(nil), p...)
		q[len(q)/2] ^= 0x55
		f.flipped = true
		return f.ResponseWriter.Write(q)
	}
	return f.ResponseWriter.Write(p)
}

func TestDownloadLiar(t *testing.T) {
	cat := newCatalog()
	f, data := share(t, cat, "liar.bin", 16*content.ChunkSize+5)
	liar := newPeer(t, "127.0.0.9", cat, ServerConfig{}, corrupting)
	honest := newPeer(t, "127.0.0.10", cat, ServerConfig{}, nil)
	res, err := newTestDownloader(t, newState(), nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "liar.bin",
		OutDir: t.TempDir(), Sources: []Source{liar.source("liar"), honest.source("honest")}})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	if len(res.Liars) != 1 || res.Liars[0] != "liar" || !res.Sources[0].Liar || res.Sources[0].Bytes != 0 {
		t.Errorf("liar not reported: liars %v, sources %+v", res.Liars, res.Sources)
	}
}

func TestDownloadOnlyLiar(t *testing.T) {
	cat := newCatalog()
	f, _ := share(t, cat, "liar.bin", 4*content.ChunkSize)
	liar := newPeer(t, "127.0.0.11", cat, ServerConfig{}, corrupting)
	st := newState()
	out := t.TempDir()
	_, err := newTestDownloader(t, st, nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "liar.bin", OutDir: out, Sources: []Source{liar.source("liar")}})
	if !errors.Is(err, ErrNoSources) {
		t.Fatalf("err = %v, want ErrNoSources", err)
	}
	if _, err := os.Stat(filepath.Join(out, "liar.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("final file exists after a failed download: %v", err)
	}
	if !st.has(f.Hash) {
		t.Error("download state dropped after a failure")
	}
}

func TestDownloadResume(t *testing.T) {
	const perSource = 2
	cat := newCatalog()
	f, data := share(t, cat, "resume.bin", 20*content.ChunkSize+99)
	ps, srcs := peers(t, 2, cat)
	n := content.NumChunks(f.Size)
	// Download state in a real badger store, shared by both "processes".
	st, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	out := t.TempDir()
	opts := func(c *Config) { c.PerSource = perSource }

	ctx, cancel := context.WithCancel(testCtx(t))
	res1, err := newTestDownloader(t, st, opts).Get(ctx, Request{Hash: f.Hash, Name: "resume.bin", OutDir: out, Sources: srcs,
		Progress: func(p Progress) {
			if p.Done >= p.Size/2 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted download: err = %v", err)
	}
	if _, err := st.GetDownload(f.Hash); err != nil {
		t.Fatalf("no download state after an interruption: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "resume.bin."+f.Hash.String()[:12]+".part")); err != nil {
		t.Fatalf("partial not kept: %v", err)
	}
	var sent1 int64
	for _, p := range ps {
		p.waitIdle(t)
		sent1 += p.srv.Stats().BytesSent
	}
	// Bytes that left the sources in run 1 but were not kept: at most one
	// chunk per request in flight.
	if wasted := sent1 - int64(res1.ChunksFetched)*content.ChunkSize; wasted > perSource*int64(len(ps))*content.ChunkSize {
		t.Errorf("run 1 sent %d bytes for %d kept chunks: %d wasted", sent1, res1.ChunksFetched, wasted)
	}

	res2, err := newTestDownloader(t, st, opts).Get(testCtx(t), Request{Hash: f.Hash, Name: "resume.bin", OutDir: out, Sources: srcs})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res2, data)
	t.Logf("run 1 fetched %d, run 2 resumed %d and fetched %d of %d chunks", res1.ChunksFetched, res2.ChunksResumed, res2.ChunksFetched, n)
	if res2.ChunksResumed != res1.ChunksFetched || res2.ChunksFetched != n-res1.ChunksFetched {
		t.Errorf("verified chunks re-fetched: run 1 %d, run 2 resumed %d fetched %d, total %d", res1.ChunksFetched, res2.ChunksResumed, res2.ChunksFetched, n)
	}
}

func TestDownloadStateLostPartialKept(t *testing.T) {
	cat := newCatalog()
	f, data := share(t, cat, "lost.bin", 6*content.ChunkSize)
	_, srcs := peers(t, 1, cat)
	out := t.TempDir()
	// A partial with the first three chunks right and the rest garbage.
	part := append([]byte(nil), data...)
	for i := 3 * content.ChunkSize; i < len(part); i++ {
		part[i] ^= 1
	}
	if err := os.WriteFile(filepath.Join(out, "lost.bin."+f.Hash.String()[:12]+".part"), part, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := newTestDownloader(t, newState(), nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "lost.bin", OutDir: out, Sources: srcs})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	if res.ChunksResumed != 3 || res.ChunksFetched != 3 {
		t.Errorf("resumed %d fetched %d, want 3 and 3", res.ChunksResumed, res.ChunksFetched)
	}
}

func TestDownloadNeverOverwrites(t *testing.T) {
	cat := newCatalog()
	f, data := share(t, cat, "song.ogg", 2*content.ChunkSize+1)
	_, srcs := peers(t, 1, cat)
	out := t.TempDir()
	for _, name := range []string{"song.ogg", "song (1).ogg"} {
		if err := os.WriteFile(filepath.Join(out, name), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := newTestDownloader(t, newState(), nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "song.ogg", OutDir: out, Sources: srcs})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	if res.Path != filepath.Join(out, "song (2).ogg") || !res.Renamed {
		t.Errorf("path %s renamed %v", res.Path, res.Renamed)
	}
	for _, name := range []string{"song.ogg", "song (1).ogg"} {
		if b, _ := os.ReadFile(filepath.Join(out, name)); string(b) != "mine" {
			t.Errorf("%s overwritten", name)
		}
	}
}

func TestDownloadErrors(t *testing.T) {
	cat := newCatalog()
	f, _ := share(t, cat, "x.bin", 10)
	ps, srcs := peers(t, 1, cat)
	unknown := content.Hash{1, 2, 3}
	dead := newPeer(t, "127.0.0.20", cat, ServerConfig{}, nil)
	dead.kill()
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"no sources", Request{Hash: f.Hash}, ErrNoSources},
		{"zero hash", Request{Sources: srcs}, ErrBadRequest},
		{"path in name", Request{Hash: f.Hash, Name: "../x.bin", Sources: srcs}, ErrBadRequest},
		{"dot dot", Request{Hash: f.Hash, Name: "..", Sources: srcs}, ErrBadRequest},
		{"unknown hash", Request{Hash: unknown, Sources: srcs}, ErrNoSources},
		{"wrong size", Request{Hash: f.Hash, Size: 11, Sources: srcs}, ErrNoSources},
		{"dead source", Request{Hash: f.Hash, Sources: []Source{dead.source("dead")}}, ErrNoSources},
		{"wrong key", Request{Hash: f.Hash, Sources: []Source{{Name: "impostor", Addr: ps[0].addr, Fingerprint: [32]byte{9}}}}, ErrNoSources},
	}
	d := newTestDownloader(t, newState(), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.OutDir = t.TempDir()
			ctx, cancel := context.WithTimeout(testCtx(t), 10e9)
			defer cancel()
			if _, err := d.Get(ctx, tt.req); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// slowing delays every file body write: a source on a bad link.
func slowing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/f/") {
			w = &slowWriter{ResponseWriter: w, ctx: r.Context()}
		}
		h.ServeHTTP(w, r)
	})
}

type slowWriter struct {
	http.ResponseWriter
	ctx context.Context
}

func (s *slowWriter) Write(p []byte) (int, error) {
	t := time.NewTimer(20 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
		return 0, s.ctx.Err()
	}
	return s.ResponseWriter.Write(p)
}

func TestDownloadSlowSource(t *testing.T) {
	cat := newCatalog()
	f, data := share(t, cat, "slow.bin", 16*content.ChunkSize)
	slow := newPeer(t, "127.0.0.12", cat, ServerConfig{}, slowing)
	fast := newPeer(t, "127.0.0.13", cat, ServerConfig{}, nil)
	res, err := newTestDownloader(t, newState(), nil).Get(testCtx(t), Request{Hash: f.Hash, Name: "slow.bin",
		OutDir: t.TempDir(), Sources: []Source{slow.source("slow"), fast.source("fast")}})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	t.Logf("sources: %+v", res.Sources)
	if res.Sources[1].Chunks <= res.Sources[0].Chunks {
		t.Errorf("the slow source delivered as much as the fast one: %+v", res.Sources)
	}
}

// TestDownloadRedialsLostConnection: the only source's connection drops
// mid-download; the downloader dials it again and finishes from it.
func TestDownloadRedialsLostConnection(t *testing.T) {
	cat := newCatalog()
	f, data := share(t, cat, "redial.bin", 12*content.ChunkSize)
	_, srcs := peers(t, 1, cat)
	var (
		mu    sync.Mutex
		conns []*quic.Conn
		once  sync.Once
	)
	dial := newDialer(t, "127.0.0.1")
	d := newTestDownloader(t, newState(), func(c *Config) {
		c.Dial = func(ctx context.Context, addr netip.AddrPort, tlsConf *tls.Config, qc *quic.Config) (*quic.Conn, error) {
			conn, err := dial(ctx, addr, tlsConf, qc)
			if err == nil {
				mu.Lock()
				conns = append(conns, conn)
				mu.Unlock()
			}
			return conn, err
		}
	})
	res, err := d.Get(testCtx(t), Request{Hash: f.Hash, Name: "redial.bin", OutDir: t.TempDir(), Sources: srcs,
		Progress: func(p Progress) {
			if p.Done >= p.Size/3 {
				once.Do(func() {
					mu.Lock()
					defer mu.Unlock()
					conns[0].CloseWithError(0, "network blip")
				})
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	if res.Sources[0].Redials < 1 || len(conns) < 2 {
		t.Errorf("source not redialled: %+v, %d connections", res.Sources[0], len(conns))
	}
}

// TestDownloadsShareOneConnection: a Downloader's downloads from one
// source, one after another and at once, ride one QUIC connection; it is
// closed a little after the last of them ends.
func TestDownloadsShareOneConnection(t *testing.T) {
	cat := newCatalog()
	var files []File
	var datas [][]byte
	for i := range 12 {
		f, data := share(t, cat, fmt.Sprintf("tile-%d.txt", i), int64(1000+i))
		files, datas = append(files, f), append(datas, data)
	}
	p := newPeer(t, "127.0.0.64", cat, ServerConfig{}, nil)
	d := newTestDownloader(t, newState(), nil)
	get := func(i int) {
		res, err := d.Get(testCtx(t), Request{Hash: files[i].Hash, Name: files[i].Path, OutDir: t.TempDir(), Sources: []Source{p.source("p")}})
		if err != nil {
			t.Error(err)
			return
		}
		checkDownloaded(t, res, datas[i])
	}
	for i := range 4 {
		get(i)
	}
	var wg sync.WaitGroup
	for i := 4; i < len(files); i++ {
		wg.Go(func() { get(i) })
	}
	wg.Wait()
	if n := p.srv.Stats().Connections; n != 1 {
		t.Errorf("%d connections for %d downloads from one source, want 1", n, len(files))
	}
	open := func() int {
		p.srv.mu.Lock()
		defer p.srv.mu.Unlock()
		return len(p.srv.conns)
	}
	deadline := time.Now().Add(poolLinger + 5*time.Second)
	for open() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the connection stayed open after its downloads ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
