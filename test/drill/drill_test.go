//go:build linux

package drill

import (
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	kib = 1 << 10
	mib = 1 << 20
)

// smallFiles is what an ordinary drill host shares: three files, one of
// them several chunks long.
func smallFiles(i int) []int64 {
	return []int64{50*kib + int64(i), mib + 4097, 2*mib + 3*int64(i)}
}

// TestColdStart is scenario 1: hosts with no seeds and no peer cache find
// each other, form one network with elected ultrapeers, every file of every
// host is found, and three downloads arrive intact. -short runs it with 6
// hosts and is the only scenario -short runs.
func TestColdStart(t *testing.T) {
	n := 12
	if testing.Short() {
		n = 6
	}
	coldStart(t, LANConfig{Hosts: n}, false, 3)
}

// TestColdStartLinkLocal is scenario 1 on a LAN whose router is down: only
// 169.254.x.y addresses and no route at all. It proves LAN discovery. The
// daemons run without --listen, exactly as a person types it, so they bind
// the wildcard address.
func TestColdStartLinkLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("drill: -short runs only the 6-host cold start")
	}
	coldStart(t, LANConfig{Hosts: 6, LinkLocal: true}, true, 1)
}

func coldStart(t *testing.T, cfg LANConfig, defaultListen bool, downloads int) {
	ctx := t.Context()
	d := newDrill(t, cfg, smallFiles)
	n := cfg.Hosts
	launch := time.Now()
	d.start(ctx, d.all(), func(int) StartOptions { return StartOptions{DefaultListen: defaultListen} })
	up := time.Since(launch)
	d.waitConverged(ctx, d.all(), 90*time.Second)
	conv := time.Since(launch)
	sts, _ := d.statuses(ctx, d.all())
	ups := sts[0].Ultrapeers
	mode := "10.77.0.0/24 + default route, --listen IP:6346"
	if cfg.LinkLocal {
		mode = "169.254.0.0/16 only, no route"
	}
	if defaultListen {
		mode += ", no --listen (0.0.0.0:6346)"
	}
	t.Logf("cold start: %d hosts (%s), no seeds, no cache: daemons up in %s, one network after %s, ultrapeers %v",
		n, mode, up.Round(time.Millisecond), conv.Round(time.Millisecond), ups)
	t.Logf("how they joined:\n%s", d.describe(ctx, d.all()))

	first := d.searchAll(ctx, d.all())
	t.Logf("cold start: first-try recall %.3f", first)

	sources := []int{1, n / 2, n - 1}[:downloads]
	for k, src := range sources {
		req := (src + n/3 + k) % n
		if req == src {
			req = (src + 1) % n
		}
		f := d.files[src][2]
		h := d.lan.Hosts[req]
		done, err := h.Get(ctx, 60*time.Second, f.Hash, h.OutDir())
		if err != nil {
			t.Errorf("get %s on %s: %v", f.Name, h.Name, err)
			continue
		}
		d.verifyGet(done, f)
		t.Logf("get: %s (%d B) from h%02d to %s in %.3fs, sources %v", f.Name, f.Size, src, h.Name, done.Seconds, done.Sources)
	}
	d.checkShares(ctx, d.all())
}

// TestUltrapeerLoss is scenario 2: during a 64 MiB download held by two
// hosts, the ultrapeer holding it is SIGKILLed and the other holder's
// cable is cut. Searches must work again once leaves re-attach; the
// download must complete (or resume after the cable returns) with the
// right hash.
func TestUltrapeerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("drill: -short runs only the 6-host cold start")
	}
	ctx := t.Context()
	const n = 8
	d := newDrill(t, LANConfig{Hosts: n}, func(i int) []int64 { return []int64{100*kib + int64(i)} })
	d.start(ctx, d.all(), nil)
	d.waitConverged(ctx, d.all(), 90*time.Second)
	sts, err := d.statuses(ctx, d.all())
	if err != nil {
		t.Fatal(err)
	}
	// The victim ultrapeer u holds the big file; so does a leaf s; a leaf
	// r attached to u downloads it.
	u, s, r := -1, -1, -1
	for _, i := range d.all() {
		if sts[i].Role == "ultrapeer" && u < 0 {
			u = i
		}
	}
	for _, i := range d.all() {
		if sts[i].Role != "leaf" {
			continue
		}
		switch {
		case r < 0 && slices.Contains(sts[i].AttachedTo, d.lan.Hosts[u].Name):
			r = i
		case s < 0:
			s = i
		}
	}
	if u < 0 || s < 0 || r < 0 {
		t.Fatalf("need an ultrapeer, a leaf attached to it and another leaf:\n%s", d.describe(ctx, d.all()))
	}
	big := d.addShared(ctx, u, 64*mib)
	d.copyShared(ctx, big, s)
	t.Logf("ultrapeer h%02d and leaf h%02d hold %s (64 MiB); leaf h%02d downloads it at 32 Mbit/s", u, s, big.Name, r)

	if err := d.lan.Shape(ctx, r, "32mbit"); err != nil {
		t.Fatal(err)
	}
	hr := d.lan.Hosts[r]
	start := time.Now()
	g, err := hr.StartGet(ctx, big.Hash, hr.OutDir())
	if err != nil {
		t.Fatal(err)
	}
	at := waitTransferring(g, hr.OutDir(), big.Size, 15*time.Second)
	fault := time.Now()
	if err := d.lan.Hosts[u].Kill(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := d.lan.LinkDown(ctx, s); err != nil {
		t.Fatal(err)
	}
	t.Logf("faults at %s into the download (%d of %d bytes reported): SIGKILL h%02d, link down h%02d",
		fault.Sub(start).Round(time.Millisecond), at, big.Size, u, s)

	live := slices.DeleteFunc(d.all(), func(i int) bool { return i == u || i == s })
	d.waitConverged(ctx, live, 60*time.Second)
	t.Logf("re-attached: the %d remaining hosts agree on ultrapeers and every leaf is attached %s after the faults",
		len(live), time.Since(fault).Round(time.Millisecond))
	var probes []probe
	for k, from := range live {
		to := live[(k+1)%len(live)]
		probes = append(probes, probe{From: from, To: to, F: d.files[to][0]})
	}
	if rec, miss := recall(d.search(ctx, probes, 6)); len(miss) > 0 {
		t.Errorf("after re-attachment, recall %.3f; misses %v\n%s", rec, miss, d.describe(ctx, live))
	} else {
		t.Logf("searches after re-attachment: %d/%d found, %s after the faults", len(probes), len(probes), time.Since(fault).Round(time.Millisecond))
	}

	if err := d.lan.LinkUp(ctx, s); err != nil {
		t.Fatal(err)
	}
	linkUp := time.Now()
	done, err := g.Wait(90 * time.Second)
	if err != nil {
		t.Logf("first get ended without the file (%v); running get again", err)
		done, err = d.getWithRetry(ctx, r, big, 90*time.Second)
	}
	if err != nil {
		t.Fatalf("download never completed: %v\n%s", err, d.describe(ctx, live))
	}
	d.verifyGet(done, big)
	t.Logf("download complete %s after link up, %s in all; resumed=%v sources %v",
		time.Since(linkUp).Round(time.Millisecond), time.Since(start).Round(time.Millisecond), done.Resumed, done.Sources)

	// The killed ultrapeer comes back with its data dir; the whole LAN
	// must be one network again, every catalog intact.
	d.start(ctx, []int{u}, nil)
	back := d.waitConverged(ctx, d.all(), 90*time.Second)
	t.Logf("h%02d restarted and h%02d reconnected: one network of %d again after %s", u, s, n, back.Round(time.Millisecond))
	d.checkShares(ctx, d.all())
}

// TestPartitionHeal is scenario 3: the bridge splits in two; each half
// elects its own ultrapeers and searches within itself; after healing, one
// network again and no role changes for 10 s.
func TestPartitionHeal(t *testing.T) {
	if testing.Short() {
		t.Skip("drill: -short runs only the 6-host cold start")
	}
	ctx := t.Context()
	const n = 8
	d := newDrill(t, LANConfig{Hosts: n}, func(i int) []int64 { return []int64{100*kib + int64(i), mib + int64(i)} })
	d.start(ctx, d.all(), nil)
	conv := d.waitConverged(ctx, d.all(), 90*time.Second)
	before, _ := d.statuses(ctx, d.all())
	t.Logf("one network of %d after %s, ultrapeers %v", n, conv.Round(time.Millisecond), before[0].Ultrapeers)

	a, b := []int{0, 1, 2, 3}, []int{4, 5, 6, 7}
	split := time.Now()
	if err := d.lan.Partition(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	d.waitConverged(ctx, a, 60*time.Second)
	d.waitConverged(ctx, b, 60*time.Second)
	tSplit := time.Since(split)
	sa, _ := d.statuses(ctx, a)
	sb, _ := d.statuses(ctx, b)
	t.Logf("partition: two networks of 4 after %s; ultrapeers %v | %v", tSplit.Round(time.Millisecond), sa[a[0]].Ultrapeers, sb[b[0]].Ultrapeers)
	ra := d.searchAll(ctx, a)
	rb := d.searchAll(ctx, b)
	t.Logf("partition: recall within halves %.3f | %.3f", ra, rb)
	cross := d.search(ctx, []probe{{From: 0, To: 4, F: d.files[4][0]}}, 1)
	t.Logf("partition: search across the cut found=%v (expected false)", cross[0].Found)
	if cross[0].Found {
		t.Errorf("search from h00 found h04's file across the partition")
	}

	heal := time.Now()
	if err := d.lan.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	d.waitConverged(ctx, d.all(), 90*time.Second)
	tHeal := time.Since(heal)
	settle, flips := d.waitSettled(ctx, d.all(), 10*time.Second, 60*time.Second)
	after, _ := d.statuses(ctx, d.all())
	t.Logf("heal: one network of %d after %s; roles settled (no change for 10 s) %s after healing, %d role changes on the way; ultrapeers %v",
		n, tHeal.Round(time.Millisecond), settle.Round(time.Millisecond), flips, after[0].Ultrapeers)
	d.searchAll(ctx, d.all())
	d.checkShares(ctx, d.all())
}

// TestChurn is scenario 4: for a minute, a host leaves or joins every few
// seconds (mostly Ctrl-C, sometimes a crash) while two stable hosts search
// for files of random hosts. Recall is reported for files whose holder was
// up during the search, and over all searches.
func TestChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("drill: -short runs only the 6-host cold start")
	}
	ctx := t.Context()
	const n = 8
	churnFor := 60 * time.Second
	d := newDrill(t, LANConfig{Hosts: n}, func(i int) []int64 { return []int64{100*kib + int64(i), 300*kib + int64(i)} })
	d.start(ctx, d.all(), nil)
	d.waitConverged(ctx, d.all(), 90*time.Second)

	stable := []int{0, 1}
	churners := []int{2, 3, 4, 5, 6, 7}
	stop := make(chan struct{})
	type sample struct {
		alive bool
		found bool
	}
	var samples []sample
	searchDone := make(chan struct{})
	// Stop and join the searcher on every way out, t.Fatal included, so it
	// never logs after the test has ended.
	stopSearching := sync.OnceFunc(func() { close(stop); <-searchDone })
	defer stopSearching()
	go func() {
		defer close(searchDone)
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			from := stable[k%len(stable)]
			to := pick(slices.DeleteFunc(d.all(), func(i int) bool { return i == from }))
			f := pick(d.files[to])
			before := d.lan.Hosts[to].Running()
			_, _, ok, err := d.lan.Hosts[from].Find(ctx, 2*time.Second, f.Hash, f.Token)
			after := d.lan.Hosts[to].Running()
			if err != nil {
				t.Logf("churn search h%02d->h%02d: %v", from, to, err)
			}
			samples = append(samples, sample{alive: before && after, found: ok})
		}
	}()

	events := 0
	crashes := 0
	end := time.Now().Add(churnFor)
	for time.Now().Before(end) {
		i := pick(churners)
		h := d.lan.Hosts[i]
		down := 0
		for _, c := range churners {
			if !d.lan.Hosts[c].Running() {
				down++
			}
		}
		switch {
		case h.Running() && down < 3:
			if rand.IntN(3) == 0 {
				h.Kill(syscall.SIGKILL)
				crashes++
			} else if err := h.Stop(); err != nil {
				t.Log(err)
			}
			events++
		case !h.Running():
			d.start(ctx, []int{i}, nil)
			events++
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Duration(2000+rand.IntN(3000)) * time.Millisecond):
		}
	}
	stopSearching()

	var alive, aliveFound, all, allFound int
	for _, s := range samples {
		all++
		if s.found {
			allFound++
		}
		if s.alive {
			alive++
			if s.found {
				aliveFound++
			}
		}
	}
	t.Logf("churn: %d leave/join events (%d crashes) in %s; %d searches; recall for files of hosts that were up %d/%d = %.3f; over all searches %d/%d; hits for files of hosts that were down (index not yet dropped) %d/%d",
		events, crashes, churnFor, all, aliveFound, alive, ratio(aliveFound, alive), allFound, all, allFound-aliveFound, all-alive)
	if alive == 0 || ratio(aliveFound, alive) < 0.5 {
		t.Errorf("recall during churn %.3f (%d/%d) below 0.5", ratio(aliveFound, alive), aliveFound, alive)
	}

	var stopped []int
	for _, c := range churners {
		if !d.lan.Hosts[c].Running() {
			stopped = append(stopped, c)
		}
	}
	d.start(ctx, stopped, nil)
	back := d.waitConverged(ctx, d.all(), 90*time.Second)
	t.Logf("churn over: one network of %d again %s after the last restart", n, back.Round(time.Millisecond))
	d.searchAll(ctx, d.all())
	d.checkShares(ctx, d.all())
}

// TestRestart is scenario 5: a host loses power mid-download (daemon and
// CLI SIGKILLed) and boots again with the same data dir, discovery off and
// no seeds: it must rejoin from its peer cache alone, list the same
// catalog, and the download must resume and finish intact.
func TestRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("drill: -short runs only the 6-host cold start")
	}
	ctx := t.Context()
	const n = 6
	const r = 5 // the host that reboots
	d := newDrill(t, LANConfig{Hosts: n}, func(i int) []int64 {
		if i == 1 {
			return []int64{100 * kib, 64 * mib}
		}
		return []int64{100*kib + int64(i)}
	})
	d.start(ctx, d.all(), nil)
	d.waitConverged(ctx, d.all(), 90*time.Second)
	hr := d.lan.Hosts[r]
	catalog, err := hr.Shares(ctx)
	if err != nil {
		t.Fatal(err)
	}
	big := d.files[1][1]
	if err := d.lan.Shape(ctx, r, "32mbit"); err != nil {
		t.Fatal(err)
	}
	g, err := hr.StartGet(ctx, big.Hash, hr.OutDir())
	if err != nil {
		t.Fatal(err)
	}
	at := waitTransferring(g, hr.OutDir(), big.Size, 15*time.Second)
	g.Kill()
	if err := hr.Kill(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("h%02d powered off mid-download (%d of %d bytes reported)", r, at, big.Size)
	if err := d.lan.Shape(ctx, r, ""); err != nil {
		t.Fatal(err)
	}

	boot := time.Now()
	d.start(ctx, []int{r}, func(int) StartOptions {
		return StartOptions{Env: []string{"SERVENT_DISCOVERY=false"}}
	})
	d.waitConverged(ctx, d.all(), 60*time.Second)
	st, _ := hr.Status(ctx)
	t.Logf("h%02d rebooted without discovery or seeds: one network of %d again %s after boot (joined via %q)",
		r, n, time.Since(boot).Round(time.Millisecond), st.JoinedVia)

	again, err := hr.Shares(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sameCatalog(catalog, again) {
		t.Errorf("catalog changed across the reboot:\nbefore %v\nafter  %v", catalog, again)
	}
	start := time.Now()
	done, err := d.getWithRetry(ctx, r, big, 90*time.Second)
	if err != nil {
		t.Fatalf("download after reboot: %v", err)
	}
	d.verifyGet(done, big)
	var fetched int64
	for _, b := range done.Sources {
		fetched += b
	}
	t.Logf("download after reboot finished in %s: resumed=%v, fetched %d of %d bytes this time",
		time.Since(start).Round(time.Millisecond), done.Resumed, fetched, big.Size)
	if !done.Resumed && fetched >= big.Size {
		t.Errorf("download restarted from zero (resumed=%v, fetched %d of %d): the partial was not resumed", done.Resumed, fetched, big.Size)
	}
	d.checkShares(ctx, d.all())
}
