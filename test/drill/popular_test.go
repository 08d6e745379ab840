//go:build linux

package drill

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPopularFile is scenario 6: six hosts; the first shares a 48 MiB file
// and serves at most two peers at once (max_uploads: 2); the five others
// run `servent get` on it at the same moment. Those turned away wait in
// the seeder's upload queue (showing their place) instead of giving up:
// all five must finish with the right hash.
func TestPopularFile(t *testing.T) {
	if testing.Short() {
		t.Skip("drill: -short runs only the 6-host cold start")
	}
	const hosts, slots = 6, 2
	ctx := t.Context()
	d := newDrill(t, LANConfig{Hosts: hosts}, func(i int) []int64 {
		if i == 0 {
			return []int64{48 * mib}
		}
		return nil
	})
	d.start(ctx, d.all(), func(i int) StartOptions {
		if i == 0 {
			return StartOptions{Env: []string{fmt.Sprintf("SERVENT_MAX_UPLOADS=%d", slots)}}
		}
		return StartOptions{}
	})
	d.waitConverged(ctx, d.all(), 90*time.Second)
	f := d.files[0][0]

	runs := make([]*GetRun, hosts)
	for i := 1; i < hosts; i++ {
		h := d.lan.Hosts[i]
		g, err := h.StartGet(ctx, f.Hash, h.OutDir())
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = g
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		queued int
	)
	for i := 1; i < hosts; i++ {
		wg.Go(func() {
			g := runs[i]
			done, err := g.Wait(3 * time.Minute)
			if err != nil {
				t.Errorf("get on %s: %v", d.lan.Hosts[i].Name, err)
				return
			}
			d.verifyGet(done, f)
			if g.queuePlaces() != "-" {
				mu.Lock()
				queued++
				mu.Unlock()
			}
			t.Logf("get on %s: %.2fs, queue places seen %s", d.lan.Hosts[i].Name, done.Seconds, g.queuePlaces())
		})
	}
	wg.Wait()
	// Five requests at once for two slots: some must have waited in line.
	if queued == 0 {
		t.Errorf("no get reported a queue place; the seeder's queue was not exercised")
	}
	d.checkShares(ctx, d.all())
}

// queuePlaces lists the queue places the get printed ("-" if none).
func (g *GetRun) queuePlaces() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var places []string
	for _, line := range g.lines {
		if p, _, err := decodeGetLine([]byte(line)); err == nil && p != nil {
			for _, q := range p.Queue {
				places = append(places, fmt.Sprintf("%d/%d@%s", q.Position, q.Length, q.Source))
			}
		}
	}
	if len(places) == 0 {
		return "-"
	}
	return strings.Join(places, " ")
}
