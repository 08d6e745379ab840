//go:build linux

package drill

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servent-p2p/servent/internal/proc"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv("DRILL_PROBE"); mode != "" {
		os.Exit(probeMain(mode))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	netnsOnce sync.Once
	netnsErr  error

	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// requireNetns skips t unless network namespaces can be created here.
func requireNetns(t *testing.T) {
	t.Helper()
	netnsOnce.Do(func() {
		if os.Geteuid() != 0 {
			netnsErr = fmt.Errorf("%w: not root (uid %d)", ErrNoNetns, os.Geteuid())
			return
		}
		netnsErr = Available(context.Background())
	})
	if netnsErr != nil {
		t.Skipf("drill: needs root and ip netns: %v", netnsErr)
	}
}

// serventBinary builds ./cmd/servent once per test run, without -race so
// that a dozen daemons stay light, and returns its path. DRILL_SERVENT
// names a prebuilt binary to drill instead.
func serventBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DRILL_SERVENT"); p != "" {
		return p
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "drill-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "servent")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		binErr = proc.Build(ctx, filepath.Join("..", ".."), binPath)
	})
	if binErr != nil {
		t.Fatalf("drill: %v", binErr)
	}
	return binPath
}

// newLAN builds a LAN for t, removed on cleanup. On failure the tail of
// every host's log is printed and the run directory is kept.
func newLAN(t *testing.T, cfg LANConfig) *LAN {
	t.Helper()
	requireNetns(t)
	dir, err := os.MkdirTemp("", "drill-"+strings.ReplaceAll(t.Name(), "/", "_")+"-")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir = dir
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lan, err := NewLAN(ctx, cfg)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("drill: build LAN: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, h := range lan.Hosts {
				if _, err := os.Stat(h.LogPath()); err == nil {
					t.Logf("--- %s (%s) log tail:\n%s", h.Name, h.Addr, h.LogTail(25))
				}
			}
		}
		if err := lan.Close(); err != nil {
			t.Errorf("drill: close LAN: %v", err)
		}
		if t.Failed() || os.Getenv("DRILL_KEEP") != "" {
			t.Logf("drill: run directory kept: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return lan
}
