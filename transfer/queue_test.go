package transfer

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servent-p2p/servent/content"
)

func testQueue() *uploadQueue {
	return newUploadQueue(queueConfig{Slots: 2, PerPeer: 2, Limit: 3, PollMin: time.Second, PollMax: 10 * time.Second, Idle: 2 * time.Second}, nil)
}

// TestUploadQueueOrder: one slot per peer, a FIFO with one place per
// peer, served in order however the waiters poll.
func TestUploadQueueOrder(t *testing.T) {
	u := testQueue()
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	for _, p := range []string{"a", "b"} {
		u.connOpened(p)
		if v := u.admit(at(0), p, true); !v.serve {
			t.Fatalf("%s not served with free slots: %+v", p, v)
		}
	}
	if v := u.admit(at(0), "a", true); !v.serve {
		t.Fatalf("slot holder's second request refused: %+v", v)
	}
	if v := u.admit(at(0), "a", true); v.serve || v.queued {
		t.Fatalf("slot holder over its request cap: %+v", v)
	}
	for i, p := range []string{"c", "d", "e"} {
		u.connOpened(p)
		v := u.admit(at(0.1), p, true)
		if !v.queued || v.q.Position != i+1 || v.q.Length != i+1 || v.q.Limit != 2 {
			t.Fatalf("%s: %+v, want queued at %d", p, v, i+1)
		}
	}
	if v := u.admit(at(0.2), "f", true); v.serve || v.queued {
		t.Fatalf("queue over its limit: %+v", v)
	}
	if v := u.admit(at(0.2), "c", true); !v.queued || v.q.Position != 1 {
		t.Fatalf("polling again keeps the place: %+v", v)
	}
	// b's connection closes: one slot frees, and it is c's, not e's.
	u.connClosed(at(1), "b")
	if v := u.admit(at(1.1), "e", true); !v.queued || v.q.Position != 3 {
		t.Fatalf("e jumped the queue: %+v", v)
	}
	if v := u.admit(at(1.2), "c", true); !v.serve {
		t.Fatalf("c, first in line, not served: %+v", v)
	}
	if v := u.admit(at(1.3), "d", true); !v.queued || v.q.Position != 1 || v.q.ETA != time.Second {
		t.Fatalf("d: %+v, want position 1 and an ETA of one slot time", v)
	}
	// a finishes and idles: its slot goes to d once Idle has passed.
	u.finish(at(2), "a")
	u.finish(at(2), "a")
	if v := u.admit(at(3), "d", true); !v.queued {
		t.Fatalf("d served before a's slot was idle long enough: %+v", v)
	}
	if v := u.admit(at(4.1), "d", true); !v.serve {
		t.Fatalf("d not served after a idled: %+v", v)
	}
	// e did not poll within PollMax: its place is gone.
	if v := u.admit(at(12), "g", true); !v.queued || v.q.Position != 1 || v.q.Length != 1 {
		t.Fatalf("g behind a waiter that stopped polling: %+v", v)
	}
	// A client that cannot queue is served only by a slot nobody waits for.
	if v := u.admit(at(12), "h", false); v.serve || v.queued {
		t.Fatalf("non-queueing client took a slot g waits for: %+v", v)
	}
	if serving, waiting := u.counts(); serving != 2 || waiting != 1 {
		t.Fatalf("serving %d waiting %d", serving, waiting)
	}
}

// TestUploadQueueRevoke: a stalled peer loses its slot at once.
func TestUploadQueueRevoke(t *testing.T) {
	u := testQueue()
	now := time.Unix(1000, 0)
	for _, p := range []string{"a", "b"} {
		u.admit(now, p, true)
	}
	if v := u.admit(now, "c", true); !v.queued {
		t.Fatalf("c: %+v", v)
	}
	u.revoke(now, "a")
	if v := u.admit(now, "c", true); !v.serve {
		t.Fatalf("c not served after a's slot was revoked: %+v", v)
	}
}

func FuzzParseQueueInfo(f *testing.F) {
	f.Add("position=2,length=5,limit=4,pollMin=45,pollMax=120")
	f.Add("position=1, eta=7, x=y")
	f.Add("position=-1")
	f.Add(queueInfo{Position: 3, Length: 9, Limit: 2, PollMin: time.Second, PollMax: 10 * time.Second, ETA: 4 * time.Second}.String())
	f.Fuzz(func(t *testing.T, v string) {
		q, err := parseQueueInfo(v)
		if err != nil {
			return
		}
		if q.Position < 1 || q.Position > maxQueueValue || q.Length < 0 || q.PollMin < 0 || q.PollMax < 0 || q.ETA < 0 {
			t.Fatalf("%q parsed to out-of-range %+v", v, q)
		}
		back, err := parseQueueInfo(q.String())
		if err != nil || back != q {
			t.Fatalf("%q: %+v formats to %q, parses back to %+v (%v)", v, q, q.String(), back, err)
		}
	})
}

// queueLog records a server's upload queue log.
type queueLog struct {
	mu     sync.Mutex
	events []queueLogEntry
}

type queueLogEntry struct {
	msg, peer string
	at        time.Time
}

func (l *queueLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *queueLog) Handle(_ context.Context, r slog.Record) error {
	e := queueLogEntry{msg: r.Message, at: r.Time}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "peer" {
			e.peer = a.Value.String()
		}
		return true
	})
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	return nil
}
func (l *queueLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *queueLog) WithGroup(string) slog.Handler      { return l }

// TestQueueTenDownloaders: one seeder serving 2 peers at once, ten
// downloaders (each with its own key) starting together. All ten finish
// and verify; each that waits reports its queue place; the seeder never
// serves more than 2 at once and serves the waiters in the order they
// joined its queue.
func TestQueueTenDownloaders(t *testing.T) {
	const downloaders, slots = 10, 2
	cat := newCatalog()
	f, data := share(t, cat, "popular.bin", 6*content.ChunkSize)
	log := &queueLog{}
	seeder := newPeer(t, "127.0.0.41", cat, ServerConfig{MaxUploads: slots, Logger: slog.New(log)}, nil)

	keys := make(map[string]int) // peer key in the seeder's log -> downloader
	type outcome struct {
		res    Result
		err    error
		places []QueuePlace
	}
	outs := make([]outcome, downloaders)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range downloaders {
		cert, fp := selfSigned(t)
		keys["key:"+hex.EncodeToString(fp[:])] = i
		d := newTestDownloader(t, newState(), func(c *Config) {
			c.TLSConfig = func(s Source) *tls.Config {
				conf := pinTLS(s.Fingerprint)
				conf.Certificates = []tls.Certificate{cert}
				return conf
			}
		})
		out := t.TempDir()
		wg.Go(func() {
			<-start
			outs[i].res, outs[i].err = d.Get(testCtx(t), Request{Hash: f.Hash, Name: "popular.bin", OutDir: out,
				Sources: []Source{seeder.source("seeder")},
				Progress: func(p Progress) {
					outs[i].places = append(outs[i].places, p.Queued...)
				}})
		})
	}
	close(start)
	wg.Wait()

	for i, o := range outs {
		if o.err != nil {
			t.Fatalf("downloader %d: %v", i, o.err)
		}
		checkDownloaded(t, o.res, data)
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	// Fair share, from the seeder's log: a waiter starts only when every
	// waiter queued before it has started or has a free slot beside it
	// (two slots freeing together go to the first two, in either order).
	serving, most := 0, 0
	var joined, started []int
	for _, e := range log.events {
		i, ok := keys[e.peer]
		if strings.HasPrefix(e.msg, "upload ") && !ok {
			t.Fatalf("%s: unknown peer %q", e.msg, e.peer)
		}
		switch e.msg {
		case "upload queued":
			joined = append(joined, i)
		case "upload slot start":
			if k := slices.Index(joined, i); k >= 0 {
				ahead := 0
				for _, j := range joined[:k] {
					if !slices.Contains(started, j) {
						ahead++
					}
				}
				if ahead >= slots-serving {
					t.Errorf("downloader %d served with %d waiters ahead of it and %d free slots", i, ahead, slots-serving)
				}
			}
			serving++
			most = max(most, serving)
			started = append(started, i)
		case "upload slot end":
			serving--
		}
	}
	if most > slots || seeder.srv.Stats().MaxServing > slots {
		t.Errorf("seeder served %d peers at once (stats %d), limit %d", most, seeder.srv.Stats().MaxServing, slots)
	}
	if len(started) != downloaders {
		t.Errorf("%d slot starts for %d downloaders: %v", len(started), downloaders, started)
	}
	if len(joined) < downloaders-slots {
		t.Errorf("only %d downloaders queued; want at least %d", len(joined), downloaders-slots)
	}
	for _, i := range joined {
		places := outs[i].places
		if len(places) == 0 {
			t.Errorf("downloader %d waited in the queue but never reported its place", i)
			continue
		}
		for _, q := range places {
			if q.Source != "seeder" || q.Position < 1 || q.Position > q.Length || q.Length > downloaders {
				t.Errorf("downloader %d: bad queue place %+v", i, q)
			}
		}
	}
	t.Logf("slot starts %v; queued in order %v; e.g. downloader %d saw %s", started, joined, joined[len(joined)-1], fmtPlaces(outs[joined[len(joined)-1]].places))
}

func fmtPlaces(ps []QueuePlace) string {
	var s []string
	for _, q := range ps {
		s = append(s, fmt.Sprintf("%d/%d", q.Position, q.Length))
	}
	return fmt.Sprint(s)
}
