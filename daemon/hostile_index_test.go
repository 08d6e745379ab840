package daemon

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/ultrapeer"
)

// indexStream opens an index-plane stream from member from to ultrapeer to
// on alpn, as from's leaf session does.
func indexStream(t *testing.T, from, to *Daemon, alpn string) (*quic.Conn, *quic.Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := from.ov.DialMember(ctx, to.ov.Name(), alpn)
	if err != nil {
		t.Fatalf("dial %s: %v", alpn, err)
	}
	t.Cleanup(func() { conn.CloseWithError(0, "") })
	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return conn, stream
}

// exchange writes frames to stream and reads the reply.
func exchange(t *testing.T, stream *quic.Stream, frames ...ultrapeer.Message) ultrapeer.Message {
	t.Helper()
	stream.SetDeadline(time.Now().Add(2 * time.Minute))
	for _, m := range frames {
		if err := ultrapeer.WriteFrame(stream, m); err != nil {
			t.Fatalf("write %T: %v", m, err)
		}
	}
	reply, err := ultrapeer.ReadFrame(stream)
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	return reply
}

// costlyEntries returns entries built to cost an ultrapeer the most heap
// per byte sent (255 distinct short keywords each), about size bytes on
// the wire.
func costlyEntries(seed string, size int) []ultrapeer.Entry {
	var out []ultrapeer.Entry
	for n, wire := 0, 0; wire < size; {
		e := ultrapeer.Entry{Path: fmt.Sprintf("%s/%d", seed, len(out))}
		for range ultrapeer.MaxKeywords {
			e.Keywords = append(e.Keywords, fmt.Sprintf("%s%x", seed, n))
			n++
		}
		e.Hash[0], e.Hash[1], e.Hash[2] = byte(n), byte(n>>8), byte(n>>16)
		wire += 40 + 6*len(e.Keywords)
		out = append(out, e)
	}
	return out
}

// heapNow is the live heap of the test process after two collections.
func heapNow() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestHostileIndex attacks an ultrapeer's index plane from members over
// real QUIC connections (#14 items 3 and 12): registration with an
// ultrapeer the topology does not give the leaf, an index far over the
// budget, an update flood, a 100,000-file library (in parts), and the
// previous index wire version.
func TestHostileIndex(t *testing.T) {
	o := clusterOptions{routing: "smart", leavesPerUltrapeer: 2, meshDegree: 4, ttl: 4}
	// 6 nodes: 3 ultrapeers, 3 leaves with one ultrapeer each, so every
	// leaf has an ultrapeer that does not admit it.
	nodes := startNodes(t, 6, o, func(_ int, cfg *configs.Config) { cfg.UltrapeersPerLeaf = 1 })
	waitUp(t, nodes, 60*time.Second)
	// The target: an ultrapeer the plan gives a leaf (the attacker) and
	// does not admit another (the outsider).
	var target, attacker, outsider, searcher *Daemon
	plan := ultrapeer.NewPlan(nodes[0].view(time.Now()), planConfig(nodes[0].cfg))
	for _, up := range nodes {
		if !plan.IsUltrapeer(up.ov.Name()) {
			continue
		}
		attacker, outsider, searcher = nil, nil, nil
		for _, d := range nodes {
			switch name := d.ov.Name(); {
			case plan.IsUltrapeer(name):
			case slices.Contains(plan.Leaves[up.ov.Name()], name) && attacker == nil:
				attacker = d
			case !admits(plan, up.ov.Name(), name) && outsider == nil:
				outsider = d
			case searcher == nil:
				searcher = d
			}
		}
		if attacker != nil && outsider != nil && searcher != nil {
			target = up
			break
		}
	}
	if target == nil {
		t.Skipf("no ultrapeer of this plan has a leaf of each kind: %v", plan.Attach)
	}
	t.Logf("target %s; attacker %s (its leaf); outsider %s (planned at %v); searcher %s",
		target.ov.Name(), attacker.ov.Name(), outsider.ov.Name(), plan.Attach[outsider.ov.Name()], searcher.ov.Name())
	ownFile := "doc" + strings.TrimPrefix(target.ov.Name(), "node")

	t.Run("registration with an ultrapeer planned for others", func(t *testing.T) {
		before := target.registry.Leaves()
		_, stream := indexStream(t, outsider, target, ultrapeer.ALPNIndex)
		reply := exchange(t, stream, &ultrapeer.Register{Owner: outsider.selfOwner(), Update: ultrapeer.Update{Full: true, ToVersion: 1, Add: outsider.entries()}})
		r, ok := reply.(*ultrapeer.Refuse)
		if !ok || r.Reason != ultrapeer.RefuseNotPlanned {
			t.Fatalf("reply %+v, want Refuse(not planned)", reply)
		}
		if _, held := target.registry.OwnerVersion(outsider.ov.Name()); held {
			t.Errorf("the outsider's index is held")
		}
		t.Logf("1 registration from %s: refused (%s, try %v); leaves %v -> %v", outsider.ov.Name(), r.Reason, r.TryUltrapeers, before, target.registry.Leaves())
	})

	t.Run("index far over the budget", func(t *testing.T) {
		if testing.Short() {
			t.Skip("sends 24 MiB and measures the heap: run without -short (CI's HostileIndex step)")
		}
		const budget = 16 << 20
		target.registry.SetBudget(ultrapeer.Budget{Bytes: budget, Keywords: 1 << 30, EntryKeywords: ultrapeer.MaxKeywords})
		defer target.registry.SetBudget(ultrapeer.DefaultBudget())
		// Encoded before the baseline and kept alive until the end, so that
		// the growth is what the target holds.
		var encoded [][]byte
		var sent int
		for i, m := range []func() ultrapeer.Message{
			func() ultrapeer.Message {
				return &ultrapeer.Register{Owner: attacker.selfOwner(), Update: ultrapeer.Update{Full: true, ToVersion: 100, Add: costlyEntries("a", 12<<20)}}
			},
			func() ultrapeer.Message {
				return &ultrapeer.Update{FromVersion: 100, ToVersion: 101, Add: costlyEntries("b", 12<<20)}
			},
		} {
			b, err := ultrapeer.AppendFrame(nil, m())
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			encoded = append(encoded, b)
			sent += len(b)
		}
		_, stream := indexStream(t, attacker, target, ultrapeer.ALPNIndex)
		h0 := heapNow()

		// Meanwhile a member keeps searching for a file the target
		// answers for from its registry, 20 times a second (the searches'
		// own state stays small next to the budget).
		var answered, asked atomic.Int64
		ctx, stop := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				default:
				}
				asked.Add(1)
				found := false
				searcher.searcher.search(ctx, api.SearchRequest{Words: []string{ownFile}, Timeout: time.Second, Max: 1}, func(r api.Result) {
					found = found || strings.Contains(r.Name, ownFile)
				})
				if found {
					answered.Add(1)
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
		start := time.Now()
		var dropped uint64
		stream.SetDeadline(time.Now().Add(2 * time.Minute))
		for i, b := range encoded {
			if _, err := stream.Write(b); err != nil {
				t.Fatal(err)
			}
			reply, err := ultrapeer.ReadFrame(stream)
			ack, ok := reply.(*ultrapeer.Ack)
			if !ok {
				t.Fatalf("frame %d: %+v %v, want an Ack", i, reply, err)
			}
			dropped += ack.Dropped
		}
		took := time.Since(start)
		stop()
		wg.Wait()
		grown := heapNow() - h0
		runtime.KeepAlive(encoded)
		held := target.registry.OwnerEntries(attacker.ov.Name())
		t.Logf("sent %.1f MiB in 2 frames; held %d entries, %d left out; heap +%.1f MiB = %.2fx the %d MiB budget (%.2fx what was sent); %d of %d searches answered during the %v it took",
			float64(sent)/(1<<20), held, dropped, float64(grown)/(1<<20), float64(grown)/budget, budget>>20, float64(grown)/float64(sent),
			answered.Load(), asked.Load(), took.Round(time.Millisecond))
		if dropped == 0 {
			t.Errorf("nothing left out of %.1f MiB on a %d MiB budget", float64(sent)/(1<<20), budget>>20)
		}
		if grown > ultrapeer.HeapMultiple*budget {
			t.Errorf("heap grew %.1f MiB, more than %dx the budget", float64(grown)/(1<<20), ultrapeer.HeapMultiple)
		}
		if took > 3*time.Second && answered.Load() == 0 {
			t.Errorf("no search answered during the %v the updates took", took)
		}
		stillUp(t, target, searcher)
	})

	t.Run("update flood", func(t *testing.T) {
		target.indexes.limit.set(2000, 4000)
		defer target.indexes.limit.set(indexRate, indexBurst)
		_, stream := indexStream(t, attacker, target, ultrapeer.ALPNIndex)
		var base []ultrapeer.Entry
		for i := range 100 {
			base = append(base, ultrapeer.Entry{Path: fmt.Sprintf("flood/%d", i), Size: 1})
		}
		if _, ok := exchange(t, stream, &ultrapeer.Register{Owner: attacker.selfOwner(), Update: ultrapeer.Update{Full: true, ToVersion: 1, Add: base}}).(*ultrapeer.Ack); !ok {
			t.Fatal("registration refused")
		}
		// 50 one-entry deltas, as fast as they are acknowledged, for 2 s:
		// each costs 1101 (1000 an update, the one entry sent, the 100
		// held copied).
		const window = 2 * time.Second
		acked := 0
		stream.SetDeadline(time.Now().Add(window))
		for v := uint64(1); v <= 50; v++ {
			u := &ultrapeer.Update{FromVersion: v, ToVersion: v + 1, Add: []ultrapeer.Entry{{Path: fmt.Sprintf("flood/x%d", v), Size: 1}}}
			if ultrapeer.WriteFrame(stream, u) != nil {
				break
			}
			if _, err := ultrapeer.ReadFrame(stream); err != nil {
				break
			}
			acked++
		}
		// Burst 4000 - 1100 (registration): 3, then 2000 per second: 4,
		// and a margin (unlimited, all 50 would be).
		const limit = 10
		t.Logf("50 deltas sent as fast as acknowledged: %d applied in %v (rate 2000/s, burst 4000, 1101 a delta: at most %d)", acked, window, limit)
		if acked == 0 || acked > limit {
			t.Errorf("%d deltas applied in %v, want 1..%d", acked, window, limit)
		}
	})

	t.Run("a 100,000-file library in parts", func(t *testing.T) {
		if testing.Short() {
			t.Skip("100,000 entries: run without -short (CI's HostileIndex step)")
		}
		var lib []ultrapeer.Entry
		for i := range 100_000 {
			e := ultrapeer.Entry{Path: fmt.Sprintf("Music/Artist Name %d/Album Title %d (2019)/Disc 1/%02d - Some Song Title %d.flac", i/500, i/12, i%12, i), Size: int64(1000 + i)}
			e.Hash[0], e.Hash[1], e.Hash[2], e.Hash[31] = byte(i), byte(i>>8), byte(i>>16), 0xEE
			e.Keywords = []string{"music", "artist", "name", fmt.Sprint(i / 500), "album", "title", fmt.Sprint(i / 12),
				"2019", "disc", "1", fmt.Sprintf("%02d", i%12), "some", "song", fmt.Sprint(i), "flac"}
			lib = append(lib, e)
		}
		u := ultrapeer.Update{Full: true, ToVersion: 1, Add: lib}
		if _, err := ultrapeer.AppendFrame(nil, &ultrapeer.Register{Owner: attacker.selfOwner(), Update: u}); !errors.Is(err, ultrapeer.ErrFrameTooLarge) {
			t.Fatalf("one frame: %v, want ErrFrameTooLarge", err)
		}
		_, stream := indexStream(t, attacker, target, ultrapeer.ALPNIndex)
		start := time.Now()
		ack, err := sendUpdate(stream, attacker.selfOwner(), u, true)
		if err != nil {
			t.Fatal(err)
		}
		if ack.Dropped != 0 || target.registry.OwnerEntries(attacker.ov.Name()) != len(lib) {
			t.Fatalf("ack %+v, held %d of %d", ack, target.registry.OwnerEntries(attacker.ov.Name()), len(lib))
		}
		took := time.Since(start)
		var got api.Result
		eventually(t, 20*time.Second, "a search to find file 77777", func() bool {
			searcher.searcher.search(t.Context(), api.SearchRequest{Words: []string{"song", "77777"}, Timeout: 2 * time.Second, Max: 1}, func(r api.Result) { got = r })
			return got.Hash == lib[77_777].Hash.String()
		})
		t.Logf("100,000 files in %d parts attached in %v; found %q from %s", len(ultrapeer.SplitUpdate(u, ultrapeer.PartBytes)), took.Round(time.Millisecond), got.Name, searcher.ov.Name())
	})

	t.Run("previous index wire version", func(t *testing.T) {
		// A v1 leaf: the old ALPN gets a refusal it understands.
		_, stream := indexStream(t, attacker, target, ultrapeer.ALPNIndexV1)
		v1 := []byte{0x01, 0x01} // type Register, wire version 1, ...
		stream.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := stream.Write(append([]byte{byte(len(v1) + 36)}, append(v1, make([]byte, 36)...)...)); err != nil {
			t.Fatal(err)
		}
		reply, err := ultrapeer.ReadFrame(stream)
		if r, ok := reply.(*ultrapeer.Refuse); err != nil || !ok || r.Reason != ultrapeer.RefuseBadUpdate {
			t.Fatalf("v1 on %s: %+v %v, want Refuse(bad update)", ultrapeer.ALPNIndexV1, reply, err)
		}
		// The same frame on the current ALPN is refused the same way.
		_, stream = indexStream(t, attacker, target, ultrapeer.ALPNIndex)
		stream.SetDeadline(time.Now().Add(10 * time.Second))
		stream.Write(append([]byte{byte(len(v1) + 36)}, append(v1, make([]byte, 36)...)...))
		reply, err = ultrapeer.ReadFrame(stream)
		if r, ok := reply.(*ultrapeer.Refuse); err != nil || !ok || r.Reason != ultrapeer.RefuseBadUpdate {
			t.Fatalf("v1 on %s: %+v %v, want Refuse(bad update)", ultrapeer.ALPNIndex, reply, err)
		}
		t.Logf("a v1 Register: refused on %s and on %s", ultrapeer.ALPNIndexV1, ultrapeer.ALPNIndex)
	})
}
