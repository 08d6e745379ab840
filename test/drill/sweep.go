//go:build linux

package drill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ownerDir records which process owns each run prefix, so a later run can
// tell a live drill (left alone) from one whose test binary died without
// cleaning up (swept).
const ownerDir = "/run/servent-drill"

// staleAge is how old an unowned drill namespace must be to be swept.
const staleAge = 15 * time.Minute

// drillNS matches the namespaces a LAN creates: sdXXXX-br, sdXXXX-hNN.
var drillNS = regexp.MustCompile(`^(sd[0-9a-f]{4})-(br|h[0-9]+)$`)

func writeOwner(prefix string) error {
	if err := os.MkdirAll(ownerDir, 0o755); err != nil {
		return fmt.Errorf("drill: owner dir: %w", err)
	}
	return os.WriteFile(filepath.Join(ownerDir, prefix), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

func removeOwner(prefix string) { os.Remove(filepath.Join(ownerDir, prefix)) }

// ownerAlive reports whether the process that created prefix still runs.
func ownerAlive(prefix string) (alive, known bool) {
	b, err := os.ReadFile(filepath.Join(ownerDir, prefix))
	if err != nil {
		return false, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false, false
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM), true
}

// sweepStale removes drill namespaces whose owner process is dead, or that
// have no owner record and are older than staleAge. Errors are ignored:
// sweeping is best effort and never blocks a run.
func sweepStale(ctx context.Context) {
	out, err := run(ctx, "ip", "netns", "list")
	if err != nil {
		return
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m := drillNS.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		alive, known := ownerAlive(m[1])
		if alive {
			continue
		}
		if !known {
			st, err := os.Stat(filepath.Join("/run/netns", f[0]))
			if err != nil || time.Since(st.ModTime()) < staleAge {
				continue
			}
		}
		removeNS(ctx, f[0])
		removeOwner(m[1])
	}
}

// removeNS kills every process left in namespace ns, waits (at most 5 s)
// for them to go, and deletes the namespace. A missing namespace is not
// an error.
func removeNS(ctx context.Context, ns string) error {
	if !nsExists(ns) {
		return nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := run(ctx, "ip", "netns", "pids", ns)
		if err != nil || out == "" {
			break
		}
		for _, p := range strings.Fields(out) {
			if pid, err := strconv.Atoi(p); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drill: processes left in %s: %s", ns, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ip(ctx, "netns", "del", ns)
}

func nsExists(ns string) bool {
	_, err := os.Stat(filepath.Join("/run/netns", ns))
	return err == nil
}
