//go:build linux

package drill

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/ultrapeer"
)

// leavesPerUltrapeer is set on every drill host so that a dozen hosts
// elect several ultrapeers and the hierarchy is real.
const leavesPerUltrapeer = 4

// searchTimeout is the --timeout of every drill search.
const searchTimeout = 3 * time.Second

// drill is one scenario's LAN with its hosts' share files.
type drill struct {
	t     *testing.T
	lan   *LAN
	env   []string
	files [][]File // files[i]: what host i shares
}

// newDrill builds a LAN of n hosts and writes the share files sizes(i)
// of every host. Daemons are not started.
func newDrill(t *testing.T, cfg LANConfig, sizes func(i int) []int64) *drill {
	t.Helper()
	cfg.Binary = serventBinary(t)
	lan := newLAN(t, cfg)
	d := &drill{t: t, lan: lan, files: make([][]File, cfg.Hosts),
		env: []string{fmt.Sprintf("SERVENT_LEAVES_PER_ULTRAPEER=%d", leavesPerUltrapeer)}}
	for i, h := range lan.Hosts {
		fs, err := WriteFiles(h.ShareDir(), h.Name, sizes(i)...)
		if err != nil {
			t.Fatal(err)
		}
		d.files[i] = fs
	}
	return d
}

// all returns the indexes 0..n-1.
func (d *drill) all() []int {
	out := make([]int, len(d.lan.Hosts))
	for i := range out {
		out[i] = i
	}
	return out
}

// start starts the daemons of hosts in parallel and fails the test if one
// does not come up. opts may be nil (no seeds, role auto).
func (d *drill) start(ctx context.Context, hosts []int, opts func(i int) StartOptions) {
	d.t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(hosts))
	for k, i := range hosts {
		wg.Go(func() {
			o := StartOptions{}
			if opts != nil {
				o = opts(i)
			}
			o.Env = append(slices.Clone(d.env), o.Env...)
			errs[k] = d.lan.Hosts[i].Start(ctx, o)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			d.t.Fatal(err)
		}
	}
}

// statuses returns `status --json` of each host.
func (d *drill) statuses(ctx context.Context, hosts []int) (map[int]api.Status, error) {
	out := make(map[int]api.Status, len(hosts))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for _, i := range hosts {
		wg.Go(func() {
			st, err := d.lan.Hosts[i].Status(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", d.lan.Hosts[i].Name, err)
				}
				return
			}
			out[i] = st
		})
	}
	wg.Wait()
	return out, firstErr
}

// wantUltrapeers is the election rule's range for a network of members:
// at least the planner's count (ultrapeer.ElectionConfig.Count with the
// drill's leaves_per_ultrapeer and the other defaults), and at most the
// hysteresis band ceil(count*1.2) (incumbents inside the band keep their
// role; see docs/ARCHITECTURE.md and ultrapeer.Elect).
func wantUltrapeers(members int) (lo, hi int) {
	ec := ultrapeer.DefaultElectionConfig()
	ec.LeavesPerUltrapeer = leavesPerUltrapeer
	lo = ec.Count(members)
	return lo, (lo*12 + 9) / 10
}

// converged checks that the hosts form one network of exactly their own
// number: everyone sees len(hosts) members and the same ultrapeer set, of
// the size the rule gives, made of these hosts, and its own role matches
// it; each leaf is attached to min(3, #ultrapeers) of them.
func (d *drill) converged(ctx context.Context, hosts []int) error {
	sts, err := d.statuses(ctx, hosts)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, i := range hosts {
		names[d.lan.Hosts[i].Name] = true
	}
	var ref []string
	for _, i := range hosts {
		st := sts[i]
		name := d.lan.Hosts[i].Name
		if st.Members != len(hosts) {
			return fmt.Errorf("%s sees %d members, want %d", name, st.Members, len(hosts))
		}
		ups := slices.Sorted(slices.Values(st.Ultrapeers))
		if ref == nil {
			ref = ups
		}
		if !slices.Equal(ups, ref) {
			return fmt.Errorf("%s sees ultrapeers %v, %s sees %v", name, ups, d.lan.Hosts[hosts[0]].Name, ref)
		}
		if lo, hi := wantUltrapeers(len(hosts)); len(ups) < lo || len(ups) > hi {
			return fmt.Errorf("%s sees %d ultrapeers %v, want %d..%d", name, len(ups), ups, lo, hi)
		}
		for _, u := range ups {
			if !names[u] {
				return fmt.Errorf("%s counts %s as ultrapeer, not one of these hosts", name, u)
			}
		}
		isUP := slices.Contains(ups, st.Name)
		if isUP != (st.Role == "ultrapeer") {
			return fmt.Errorf("%s has role %q but ultrapeer set %v", name, st.Role, ups)
		}
		if !isUP {
			if want := min(3, len(ups)); len(st.AttachedTo) != want {
				return fmt.Errorf("leaf %s attached to %v, want %d of ultrapeers %v", name, st.AttachedTo, want, ups)
			}
			for _, a := range st.AttachedTo {
				if !slices.Contains(ups, a) {
					return fmt.Errorf("leaf %s attached to %s, not an ultrapeer %v", name, a, ups)
				}
			}
		}
	}
	return nil
}

// waitConverged polls converged until it holds and returns how long that
// took; the test fails after timeout.
func (d *drill) waitConverged(ctx context.Context, hosts []int, timeout time.Duration) time.Duration {
	d.t.Helper()
	start := time.Now()
	nextNote := start.Add(10 * time.Second)
	err := Eventually(ctx, timeout, 500*time.Millisecond, func() error {
		err := d.converged(ctx, hosts)
		if err != nil && time.Now().After(nextNote) {
			d.t.Logf("still converging after %s: %v", time.Since(start).Round(time.Second), err)
			if nextNote.Sub(start) < 11*time.Second {
				d.t.Logf("each host's view of the others' published roles (U ultrapeer, L leaf, state if not alive):\n%s", d.views(ctx, hosts))
			}
			nextNote = time.Now().Add(10 * time.Second)
		}
		return err
	})
	if err != nil {
		d.t.Fatalf("hosts %v did not converge: %v\n%s", hosts, err, d.describe(ctx, hosts))
	}
	took := time.Since(start)
	d.checkRegistrations(ctx, hosts)
	return took
}

// checkRegistrations checks the other side of each attachment: every
// ultrapeer a leaf says it is attached to lists that leaf among its leaves
// (holds its index). A mismatch fails the test but does not stop it.
func (d *drill) checkRegistrations(ctx context.Context, hosts []int) {
	d.t.Helper()
	err := Eventually(ctx, 15*time.Second, 500*time.Millisecond, func() error {
		sts, err := d.statuses(ctx, hosts)
		if err != nil {
			return err
		}
		byName := map[string]api.Status{}
		for _, st := range sts {
			byName[st.Name] = st
		}
		var bad []string
		for _, i := range hosts {
			st := sts[i]
			for _, a := range st.AttachedTo {
				if u, ok := byName[a]; ok && !slices.Contains(u.Leaves, st.Name) {
					bad = append(bad, fmt.Sprintf("leaf %s says it is attached to %s, whose leaves are %v", st.Name, a, u.Leaves))
				}
			}
		}
		if len(bad) > 0 {
			return errors.New(strings.Join(bad, "; "))
		}
		return nil
	})
	if err != nil {
		d.t.Errorf("index registrations inconsistent: %v", err)
	}
}

// describe prints every host's role, members and attachments.
func (d *drill) describe(ctx context.Context, hosts []int) string {
	var b strings.Builder
	for _, i := range hosts {
		st, err := d.lan.Hosts[i].Status(ctx)
		if err != nil {
			fmt.Fprintf(&b, "  %s: %v\n", d.lan.Hosts[i].Name, err)
			continue
		}
		fmt.Fprintf(&b, "  %s %s: role %s members %d ultrapeers %v attached %v leaves %v via %q drops %d\n",
			d.lan.Hosts[i].Name, d.lan.Hosts[i].Addr.Addr(), st.Role, st.Members, st.Ultrapeers, st.AttachedTo, st.Leaves, st.JoinedVia, st.Datagrams.Dropped)
	}
	return b.String()
}

// views prints, per host, what `peers --json` says of every member: the
// role it publishes and its state when not alive.
func (d *drill) views(ctx context.Context, hosts []int) string {
	var b strings.Builder
	for _, i := range hosts {
		h := d.lan.Hosts[i]
		peers, err := h.Peers(ctx)
		if err != nil {
			fmt.Fprintf(&b, "  %s: %v\n", h.Name, err)
			continue
		}
		fmt.Fprintf(&b, "  %s sees", h.Name)
		for _, p := range peers {
			role := strings.ToUpper(p.Role[:min(1, len(p.Role))])
			state := ""
			if p.State != "alive" {
				state = "(" + p.State + ")"
			}
			fmt.Fprintf(&b, " %s=%s%s", p.Name, role, state)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// roles returns host name -> role for the hosts.
func (d *drill) roles(ctx context.Context, hosts []int) (map[string]string, error) {
	sts, err := d.statuses(ctx, hosts)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, st := range sts {
		out[st.Name] = st.Role
	}
	return out, nil
}

// probe is one search: from host From for file F of host To.
type probe struct {
	From, To int
	F        File
}

// probeResult is a probe's outcome.
type probeResult struct {
	probe
	Found   bool
	Sources int
	Elapsed time.Duration
	Err     error
}

// search runs the probes, at most `parallel` at a time, each a search for
// the file's unique token that must return the file's hash.
func (d *drill) search(ctx context.Context, probes []probe, parallel int) []probeResult {
	out := make([]probeResult, len(probes))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for k, p := range probes {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r, so, ok, err := d.lan.Hosts[p.From].Find(ctx, searchTimeout, p.F.Hash, p.F.Token)
			out[k] = probeResult{probe: p, Found: ok, Sources: len(r.Sources), Elapsed: so.Elapsed, Err: err}
		})
	}
	wg.Wait()
	return out
}

// recall returns found/total of the results and the misses.
func recall(rs []probeResult) (float64, []probeResult) {
	var miss []probeResult
	for _, r := range rs {
		if !r.Found {
			miss = append(miss, r)
		}
	}
	if len(rs) == 0 {
		return 0, nil
	}
	return float64(len(rs)-len(miss)) / float64(len(rs)), miss
}

func (r probeResult) String() string {
	return fmt.Sprintf("h%02d->h%02d %s found=%v err=%v", r.From, r.To, r.F.Token, r.Found, r.Err)
}

// searchAll checks that every file of every host in hosts is found from
// some other host of hosts (by each file's unique token), and that every
// host searches at least once; misses are retried once. It returns the
// first-try recall.
func (d *drill) searchAll(ctx context.Context, hosts []int) float64 {
	d.t.Helper()
	var probes []probe
	n := len(hosts)
	for k, to := range hosts {
		step := max(1, n/max(1, len(d.files[to])))
		for j, f := range d.files[to] {
			from := hosts[(k+1+j*step)%n]
			if from == to {
				from = hosts[(k+1)%n]
			}
			probes = append(probes, probe{From: from, To: to, F: f})
		}
	}
	start := time.Now()
	rs := d.search(ctx, probes, 6)
	first, miss := recall(rs)
	d.t.Logf("search: %d searches covering every file of %d hosts, recall %.3f in %s", len(rs), n, first, time.Since(start).Round(time.Millisecond))
	if len(miss) > 0 {
		var retry []probe
		for _, m := range miss {
			d.t.Logf("  miss: %v", m)
			retry = append(retry, m.probe)
		}
		rs2 := d.search(ctx, retry, 6)
		if _, miss2 := recall(rs2); len(miss2) > 0 {
			d.t.Errorf("%d files never found: %v\n%s", len(miss2), miss2, d.describe(ctx, hosts))
		}
	}
	return first
}

// checkShares checks that each running host's `shares --json` lists every
// file it was given, with the right size and hash.
func (d *drill) checkShares(ctx context.Context, hosts []int) {
	d.t.Helper()
	for _, i := range hosts {
		h := d.lan.Hosts[i]
		err := Eventually(ctx, 20*time.Second, 500*time.Millisecond, func() error {
			shares, err := h.Shares(ctx)
			if err != nil {
				return err
			}
			return missingShares(d.files[i], shares)
		})
		if err != nil {
			d.t.Errorf("%s catalog: %v", h.Name, err)
		}
	}
}

func missingShares(files []File, shares []api.Share) error {
	have := map[string]api.Share{}
	for _, s := range shares {
		have[filepath.Base(s.Path)] = s
	}
	for _, f := range files {
		s, ok := have[f.Name]
		if !ok {
			return fmt.Errorf("%s not listed (%d shares)", f.Name, len(shares))
		}
		if s.Size != f.Size || !sameHash(s.Hash, f.Hash) {
			return fmt.Errorf("%s listed with size %d hash %s, want %d %s", f.Name, s.Size, s.Hash, f.Size, f.Hash)
		}
	}
	return nil
}

// verifyGet checks a finished download against the source file.
func (d *drill) verifyGet(done api.GetDone, f File) {
	d.t.Helper()
	if !sameHash(done.Hash, f.Hash) {
		d.t.Errorf("get %s: reported hash %s, want %s", f.Name, done.Hash, f.Hash)
	}
	if err := VerifyFile(done.Path, f.Size, f.Hash); err != nil {
		d.t.Error(err)
	}
}

// pick returns a random element of xs.
func pick[T any](xs []T) T { return xs[rand.IntN(len(xs))] }
