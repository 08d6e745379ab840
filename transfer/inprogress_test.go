package transfer

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/servent-p2p/servent/content"
)

// holdPart makes n serve the first chunks of f as a download in progress
// (data verified for those chunks only) and returns what stops it.
func holdPart(t *testing.T, n *swarmNode, f File, data []byte, chunks int) func() {
	t.Helper()
	size := int64(len(data))
	_, ob, err := content.HashReader(bytes.NewReader(data), size)
	if err != nil {
		t.Fatal(err)
	}
	dl := &Download{Hash: f.Hash, Size: size, Name: "map.bin", Outboard: ob, Verified: make([]byte, (content.NumChunks(size)+7)/8), PartPath: t.TempDir() + "/map.part"}
	for c := range chunks {
		setBit(dl.Verified, c)
	}
	p, _, err := openPartialFile(dl.PartPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if _, err := p.Write(data[:int64(chunks)*content.ChunkSize]); err != nil {
		t.Fatal(err)
	}
	if err := p.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return n.swarm.add(dl, &partial{f: p, path: dl.PartPath}, nil)
}

// TestInProgressListed: a download in progress with verified chunks is
// listed (and the change told) until it ends.
func TestInProgressListed(t *testing.T) {
	const size = 4 * content.ChunkSize
	cat := newCatalog()
	f, data := share(t, cat, "map.bin", size)
	n := newSwarmNode(t, "127.0.0.50", "holder", newCatalog(), &mesh{}, true, nil)
	var changes atomic.Int32
	n.swarm.OnChange(func() { changes.Add(1) })
	stop := holdPart(t, n, f, data, 2)
	if got := n.swarm.InProgress(); !slices.Equal(got, []PartialFile{{Hash: f.Hash, Size: size, Name: "map.bin"}}) {
		t.Fatalf("InProgress() = %+v", got)
	}
	stop()
	if got := n.swarm.InProgress(); len(got) != 0 {
		t.Fatalf("after the end: InProgress() = %+v", got)
	}
	if c := changes.Load(); c != 2 {
		t.Errorf("%d changes told, want 2 (listed, ended)", c)
	}
}

// TestPartialSourceOnly: a download whose only source is a partial hit
// fetches the chunks that holder has, then stops after PartialWait with a
// clear error and the partial kept; run again with a whole-file source it
// resumes and fetches only the rest from it.
func TestPartialSourceOnly(t *testing.T) {
	const chunks = 8
	const size = chunks * content.ChunkSize
	cat := newCatalog()
	f, data := share(t, cat, "map.bin", size)
	m := &mesh{}
	seeder := newSwarmNode(t, "127.0.0.51", "seeder", cat, m, true, nil)
	holder := newSwarmNode(t, "127.0.0.52", "holder", newCatalog(), m, true, nil)
	defer holdPart(t, holder, f, data, 3)()
	n := newSwarmNode(t, "127.0.0.53", "d", newCatalog(), m, true, nil)
	n.d.cfg.PartialWait = time.Second
	out := t.TempDir()
	part := holder.source("holder")
	part.Partial = true
	start := time.Now()
	res, err := n.d.Get(testCtx(t), Request{Hash: f.Hash, Name: "map.bin", OutDir: out, Sources: []Source{part}})
	if !errors.Is(err, ErrNoSources) || !strings.Contains(err.Error(), "5 of 8 chunks are still missing") {
		t.Fatalf("with a partial holder only: %v, want ErrNoSources with 5 of 8 chunks missing", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("gave up after %v, want about PartialWait", took)
	}
	if res.ChunksFetched != 3 || holder.srv.Stats().PartialUploads != 3 {
		t.Fatalf("fetched %d chunks, the holder served %d: want 3", res.ChunksFetched, holder.srv.Stats().PartialUploads)
	}
	res, err = n.d.Get(testCtx(t), Request{Hash: f.Hash, Name: "map.bin", OutDir: out, Sources: []Source{part, seeder.source("seeder")}})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	if res.ChunksResumed != 3 || res.ChunksFetched != 5 {
		t.Errorf("resumed %d, fetched %d chunks: want 3 and 5", res.ChunksResumed, res.ChunksFetched)
	}
}

// TestPartialSourceFindsWholeCopy: a download with only a partial holder
// asks Find for sources again and completes from the whole copy it
// returns, the holder's chunks included.
func TestPartialSourceFindsWholeCopy(t *testing.T) {
	const size = 8 * content.ChunkSize
	cat := newCatalog()
	f, data := share(t, cat, "map.bin", size)
	m := &mesh{}
	seeder := newSwarmNode(t, "127.0.0.54", "seeder", cat, m, true, nil)
	holder := newSwarmNode(t, "127.0.0.55", "holder", newCatalog(), m, true, nil)
	defer holdPart(t, holder, f, data, 3)()
	n := newSwarmNode(t, "127.0.0.56", "d", newCatalog(), m, true, nil)
	n.d.cfg.PartialWait = 4 * time.Second // asks again every second
	part := holder.source("holder")
	part.Partial = true
	var asked atomic.Int32
	find := func(context.Context) []Source {
		if asked.Add(1) == 1 {
			return []Source{part} // already in use: skipped
		}
		return []Source{part, seeder.source("seeder")}
	}
	res, err := n.d.Get(testCtx(t), Request{Hash: f.Hash, Name: "map.bin", OutDir: t.TempDir(), Sources: []Source{part}, Find: find})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, res, data)
	if asked.Load() < 2 || len(res.Sources) != 2 {
		t.Errorf("Find asked %d times, sources %+v: want at least 2, and the seeder added once", asked.Load(), res.Sources)
	}
}

// TestStallOnlyWhenNothingHeld: a download whose only source lists some
// missing chunks (a seeder holding others back, or queueing it) waits
// whatever the time without a chunk; once no source lists a missing
// chunk it stops after stallAfter, and asks for sources before that.
func TestStallOnlyWhenNothingHeld(t *testing.T) {
	src := &source{Source: Source{Name: "seeder"}, have: []byte{0b0000_0110}}
	sc := newSchedule(t.Context(), 4, []byte{0b0000_0001}, []*source{src}, false)
	sc.stallAfter = time.Minute
	later := time.Now().Add(time.Hour)
	timeout := func(ctx context.Context) (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }
	if sc.starved(later, time.Second) {
		t.Fatal("starved while the source lists missing chunks")
	}
	sc.mu.Lock()
	stalled := sc.stalled(later)
	sc.mu.Unlock()
	if stalled {
		t.Fatal("stalled while the source lists missing chunks")
	}
	sc.served(src, []byte{0b0000_0001}) // it now lists only what is done
	if !sc.starved(later, time.Second) || sc.starved(time.Now(), time.Second) {
		t.Fatal("starved: want true an hour on, false now")
	}
	a, _, _, finished := sc.next(src, time.Now(), timeout) // a probe: "not yet"
	if finished || a == nil {
		t.Fatalf("finished %v, assignment %v: want a probe", finished, a)
	}
	sc.notYet(a, []byte{0b0000_0001}, time.Now())
	if _, _, _, finished := sc.next(src, later, timeout); !finished {
		t.Fatal("not finished an hour after the last chunk with nothing held")
	}
	if err, _ := sc.result(); !errors.Is(err, errStalled) {
		t.Fatalf("result %v, want errStalled", err)
	}
}
