package transfer

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servent-p2p/servent/content"
)

// uplink limits the file bytes a handler sends, over all its requests
// together, to rate bytes per second: a host's upload link.
func uplink(rate float64) func(http.Handler) http.Handler {
	l := &limiter{rate: rate}
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/f/") {
				w = &limitedWriter{ResponseWriter: w, l: l, ctx: r.Context()}
			}
			h.ServeHTTP(w, r)
		})
	}
}

type limiter struct {
	rate float64
	mu   sync.Mutex
	next time.Time
}

// wait blocks until n more bytes may leave.
func (l *limiter) wait(ctx context.Context, n int) error {
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	l.next = l.next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	until := l.next
	l.mu.Unlock()
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type limitedWriter struct {
	http.ResponseWriter
	l   *limiter
	ctx context.Context
}

// Unwrap lets the server's write deadlines reach the stream.
func (w *limitedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *limitedWriter) Write(p []byte) (int, error) {
	if err := w.l.wait(w.ctx, len(p)); err != nil {
		return 0, err
	}
	return w.ResponseWriter.Write(p)
}

// mesh resolves node keys to sources, as the overlay does for members.
type mesh struct {
	mu    sync.Mutex
	nodes map[Key]Source
}

func (m *mesh) resolve(k Key) (Source, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.nodes[k]
	return s, ok
}

func (m *mesh) put(s Source) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nodes == nil {
		m.nodes = make(map[Key]Source)
	}
	m.nodes[s.Fingerprint] = s
}

// swarmNode is a node that serves and downloads with one key and one
// Swarm, as a servent does.
type swarmNode struct {
	*peer
	swarm *Swarm
	d     *Downloader
}

// newSwarmNode starts a node on ip serving cat (and, with swarming, its
// downloads in progress); wrap, if set, wraps its handler. swarm=false
// turns swarming off.
func newSwarmNode(t *testing.T, ip, name string, cat Catalog, m *mesh, swarm bool, wrap func(http.Handler) http.Handler) *swarmNode {
	t.Helper()
	cert, fp := selfSigned(t)
	var sw *Swarm
	if swarm {
		sw = NewSwarm(fp, 0)
		t.Cleanup(sw.Close)
	}
	p := newPeerWithKey(t, ip, cat, ServerConfig{Swarm: sw}, wrap, cert, fp)
	m.put(p.source(name))
	d := newTestDownloader(t, newState(), func(c *Config) {
		c.Dial = newDialer(t, ip)
		c.Swarm, c.Resolve = sw, m.resolve
		c.TLSConfig = func(s Source) *tls.Config {
			conf := pinTLS(s.Fingerprint)
			conf.Certificates = []tls.Certificate{cert}
			return conf
		}
	})
	return &swarmNode{peer: p, swarm: sw, d: d}
}

// swarmResult is one downloader's outcome.
type swarmResult struct {
	res Result
	err error
}

// TestSwarmSeederSendsAboutOnce: one seeder with a slow uplink, five
// downloaders starting together with equally slow uplinks. They learn of
// each other from the seeder (X-Alt), serve each other what they have
// verified, and the seeder sends far fewer than five copies; every file
// is right. With swarming off, the seeder sends all five.
func TestSwarmSeederSendsAboutOnce(t *testing.T) {
	const downloaders = 5
	const size = 24*content.ChunkSize + 4321
	const rate = 30 << 20 // bytes/s per uplink
	for _, swarm := range []bool{true, false} {
		t.Run(fmt.Sprintf("swarm=%v", swarm), func(t *testing.T) {
			cat := newCatalog()
			f, data := share(t, cat, "map.bin", size)
			m := &mesh{}
			seeder := newSwarmNode(t, "127.0.0.20", "seeder", cat, m, swarm, uplink(rate))
			var nodes []*swarmNode
			for i := range downloaders {
				n := newSwarmNode(t, fmt.Sprintf("127.0.0.%d", 21+i), fmt.Sprintf("d%d", i), newCatalog(), m, swarm, uplink(rate))
				// The product's chunk timeout, not the tests' 10 s: without
				// swarming, 5 x PerSource chunks share the seeder's uplink,
				// about 2 s a chunk under -race at load 10, and a load spike
				// past 10 s timed out a download's four requests at once
				// (MaxFailures), dropping its only source.
				n.d.cfg.ChunkTimeout = DefaultChunkTimeout
				nodes = append(nodes, n)
			}
			results := getAll(t, nodes, f, []Source{seeder.source("seeder")}, nil)
			var partialSent int64
			for i, r := range results {
				if r.err != nil {
					t.Fatalf("d%d: %v", i, r.err)
				}
				checkDownloaded(t, r.res, data)
				partialSent += nodes[i].srv.Stats().BytesSent
				t.Logf("d%d: %s, %+v", i, r.res.Duration.Round(time.Millisecond), nodes[i].srv.Stats())
			}
			copies := float64(seeder.srv.Stats().BytesSent) / float64(size)
			t.Logf("seeder sent %.2f copies, downloaders sent each other %.2f copies", copies, float64(partialSent)/float64(size))
			if swarm && (copies > 2.5 || partialSent == 0) {
				t.Errorf("with swarming the seeder sent %.2f copies (want <= 2.5) and the downloaders %d bytes", copies, partialSent)
			}
			if !swarm && (copies < downloaders || partialSent != 0) {
				t.Errorf("without swarming the seeder sent %.2f copies and the downloaders %d bytes", copies, partialSent)
			}
		})
	}
}

// swarmLimit bounds getAll's downloads. They are CPU-bound under the race
// detector: with -race at load average 10-11 on two cores, five 24 MiB
// downloads took 23-43 s with swarming (one run went past testCtx's 45 s)
// and 10-18 s without, against about 1 s that the uplinks allow. The
// tests assert what was sent, not how fast.
const swarmLimit = 3 * time.Minute

// getAll starts a download of f on every node at once, each with srcs,
// and waits for them all (at most swarmLimit). watch, if set, is called
// every few milliseconds until they are done.
func getAll(t *testing.T, nodes []*swarmNode, f File, srcs []Source, watch func()) []swarmResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), swarmLimit)
	defer cancel()
	results := make([]swarmResult, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			res, err := n.d.Get(ctx, Request{Hash: f.Hash, Size: f.Size, Name: "map.bin", OutDir: t.TempDir(), Sources: srcs})
			results[i] = swarmResult{res, err}
		})
	}
	if watch != nil {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		for tick := time.NewTicker(2 * time.Millisecond); ; {
			select {
			case <-done:
				tick.Stop()
				return results
			case <-tick.C:
				watch()
			}
		}
	}
	wg.Wait()
	return results
}

// TestSwarmSeederKilled: the seeder dies once the downloaders together
// hold every chunk, while some of them still miss chunks; they finish
// among themselves.
func TestSwarmSeederKilled(t *testing.T) {
	const downloaders = 4
	const size = 32 * content.ChunkSize
	const rate = 20 << 20
	cat := newCatalog()
	f, data := share(t, cat, "map.bin", size)
	m := &mesh{}
	seeder := newSwarmNode(t, "127.0.0.30", "seeder", cat, m, true, uplink(rate))
	var nodes []*swarmNode
	for i := range downloaders {
		nodes = append(nodes, newSwarmNode(t, fmt.Sprintf("127.0.0.%d", 31+i), fmt.Sprintf("d%d", i), newCatalog(), m, true, uplink(rate)))
	}
	var killed bool
	var missingAtKill int
	results := getAll(t, nodes, f, []Source{seeder.source("seeder")}, func() {
		if killed {
			return
		}
		union := make([]byte, (content.NumChunks(size)+7)/8)
		missing := 0
		for _, n := range nodes {
			a := n.swarm.partial(f.Hash)
			if a == nil {
				continue
			}
			have := a.have()
			if countBits(have, content.NumChunks(size)) < content.NumChunks(size) {
				missing++
			}
			for i := range union {
				union[i] |= have[i]
			}
		}
		if countBits(union, content.NumChunks(size)) == content.NumChunks(size) {
			seeder.kill()
			killed, missingAtKill = true, missing
		}
	})
	if !killed || missingAtKill == 0 {
		t.Fatalf("the seeder was not killed while downloaders still missed chunks (killed %v, %d missing)", killed, missingAtKill)
	}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("d%d: %v", i, r.err)
		}
		checkDownloaded(t, r.res, data)
	}
	t.Logf("seeder killed with %d of %d downloaders incomplete; all finished among themselves", missingAtKill, downloaders)
}

// TestSwarmPartialLiar: a node claims chunks of a download in progress
// that are not what it verified; the downloader drops it as a liar and
// gets the file right from the seeder.
func TestSwarmPartialLiar(t *testing.T) {
	const size = 8 * content.ChunkSize
	cat := newCatalog()
	f, data := share(t, cat, "map.bin", size)
	m := &mesh{}
	seeder := newSwarmNode(t, "127.0.0.40", "seeder", cat, m, true, uplink(4<<20))
	liar := newSwarmNode(t, "127.0.0.41", "liar", newCatalog(), m, true, nil)
	// The liar's "download in progress": every chunk marked verified,
	// every byte wrong.
	_, ob, err := content.HashReader(bytes.NewReader(data), size)
	if err != nil {
		t.Fatal(err)
	}
	dl := &Download{Hash: f.Hash, Size: size, Outboard: ob, Verified: bytes.Repeat([]byte{0xff}, 1), PartPath: t.TempDir() + "/lie.part"}
	p, _, err := openPartialFile(dl.PartPath)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Write(bytes.Repeat([]byte{'x'}, size)); err != nil {
		t.Fatal(err)
	}
	defer liar.swarm.add(dl, &partial{f: p, path: dl.PartPath}, nil)()

	n := newSwarmNode(t, "127.0.0.42", "d", newCatalog(), m, true, nil)
	res, err := n.d.Get(testCtx(t), Request{Hash: f.Hash, Name: "map.bin", OutDir: t.TempDir(), Sources: []Source{liar.source("liar"), seeder.source("seeder")}})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	if len(res.Liars) != 1 || res.Liars[0] != "liar" {
		t.Errorf("liars %v, want [liar]", res.Liars)
	}
	if liar.srv.Stats().PartialUploads == 0 {
		t.Error("the liar served nothing: the test did not exercise a partial source")
	}
}
