//go:build linux

package drill

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/servent-p2p/servent/api"
)

// waitTransferring waits until a tenth of size has arrived in dir (the
// CLI prints no progress in --json mode, so the partial file is watched)
// or limit passes, and returns the bytes seen.
func waitTransferring(g *GetRun, dir string, size int64, limit time.Duration) int64 {
	seen := func() int64 { return max(g.Progress().Bytes, PartialBytes(dir)) }
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && !g.Exited() {
		if b := seen(); b >= size/10 {
			return b
		}
		time.Sleep(100 * time.Millisecond)
	}
	return seen()
}

// getWithRetry runs get until it succeeds or timeout passes: right after a
// fault the sources may not be known again yet.
func (d *drill) getWithRetry(ctx context.Context, i int, f File, timeout time.Duration) (api.GetDone, error) {
	h := d.lan.Hosts[i]
	var done api.GetDone
	err := Eventually(ctx, timeout, time.Second, func() error {
		var err error
		done, err = h.Get(ctx, timeout, f.Hash, h.OutDir())
		return err
	})
	return done, err
}

// addShared writes a new file of size into host i's share while its
// daemon runs (written aside, then renamed in) and waits until the host's
// catalog lists it.
func (d *drill) addShared(ctx context.Context, i int, size int64) File {
	d.t.Helper()
	h := d.lan.Hosts[i]
	aside := filepath.Join(h.Dir, "incoming")
	fs, err := WriteFiles(aside, h.Name, size)
	if err != nil {
		d.t.Fatal(err)
	}
	return d.moveIn(ctx, fs[0], i)
}

// copyShared copies f into host i's share while its daemon runs and waits
// until the catalog lists it.
func (d *drill) copyShared(ctx context.Context, f File, i int) File {
	d.t.Helper()
	h := d.lan.Hosts[i]
	c, err := CopyFile(f, filepath.Join(h.Dir, "incoming"))
	if err != nil {
		d.t.Fatal(err)
	}
	return d.moveIn(ctx, c, i)
}

func (d *drill) moveIn(ctx context.Context, f File, i int) File {
	d.t.Helper()
	h := d.lan.Hosts[i]
	dst := filepath.Join(h.ShareDir(), f.Name)
	if err := os.Rename(f.Path, dst); err != nil {
		d.t.Fatal(err)
	}
	f.Path = dst
	d.files[i] = append(d.files[i], f)
	start := time.Now()
	err := Eventually(ctx, 30*time.Second, 250*time.Millisecond, func() error {
		shares, err := h.Shares(ctx)
		if err != nil {
			return err
		}
		return missingShares([]File{f}, shares)
	})
	if err != nil {
		d.t.Fatalf("%s did not index %s dropped into its share: %v", h.Name, f.Name, err)
	}
	d.t.Logf("%s indexed %s (%d B) %s after it appeared in its share", h.Name, f.Name, f.Size, time.Since(start).Round(time.Millisecond))
	return f
}

// waitSettled polls the roles of hosts every second until they have not
// changed for quiet, and returns how long that took (from the call) and
// how many role changes were seen. The test fails after timeout.
func (d *drill) waitSettled(ctx context.Context, hosts []int, quiet, timeout time.Duration) (time.Duration, int) {
	d.t.Helper()
	start := time.Now()
	var last map[string]string
	lastChange := start
	flips := 0
	err := Eventually(ctx, timeout, time.Second, func() error {
		roles, err := d.roles(ctx, hosts)
		if err != nil {
			return err
		}
		if last != nil {
			for name, role := range roles {
				if last[name] != role {
					flips++
					lastChange = time.Now()
				}
			}
		}
		last = roles
		if since := time.Since(lastChange); since < quiet {
			return fmt.Errorf("last role change %s ago: %v", since.Round(time.Millisecond), roles)
		}
		return nil
	})
	if err != nil {
		d.t.Errorf("roles never settled: %v", err)
	}
	return lastChange.Sub(start), flips
}

// sameCatalog compares two `shares --json` listings by path, size, hash
// and modification time.
func sameCatalog(a, b []api.Share) bool {
	key := func(s api.Share) string {
		return fmt.Sprintf("%s|%s|%d|%s|%d", s.Root, s.Path, s.Size, normHash(s.Hash), s.ModTime.UnixNano())
	}
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i] = key(a[i])
	}
	for i := range b {
		kb[i] = key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
