//go:build linux

package drill

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/servent-p2p/servent/internal/proc"
)

// Port is the servent UDP port every host listens on (QUIC, membership,
// queries). Discovery beacons use the daemon's default, 6347.
const Port = 6346

const (
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace = 10 * time.Second
	// readyTimeout bounds how long Start waits for the control socket.
	readyTimeout = 30 * time.Second
)

// ErrNotRunning is returned when a host's daemon is expected to run but
// does not.
var ErrNotRunning = errors.New("drill: daemon not running")

// Host is one machine of the LAN: a network namespace with one address,
// and at most one servent daemon running in it with its own data dir and
// share dir under Dir. Methods are safe for concurrent use.
type Host struct {
	// Index is the host's position in LAN.Hosts.
	Index int
	// Name is "hII"; the daemon runs with --name NAME.
	Name string
	// NS is the host's network namespace.
	NS string
	// Addr is the host's address on eth0, with its prefix length.
	Addr netip.Prefix
	// Dir holds data/, share/, out/ and servent.log.
	Dir string

	lan  *LAN
	port string // bridge-side veth name

	mu     sync.Mutex
	proc   *proc.Process
	starts int
}

// StartOptions are the per-start settings of a daemon.
type StartOptions struct {
	// Seeds are passed as --seed IP:PORT.
	Seeds []string
	// Role is passed as --role when set (auto, leaf, ultrapeer).
	Role string
	// Env holds extra KEY=VALUE settings (SERVENT_<KEY> config keys).
	Env []string
	// DefaultListen runs the daemon without --listen, as a person does:
	// it binds the wildcard address 0.0.0.0:6346. Otherwise it gets
	// --listen HOST_IP:6346.
	DefaultListen bool
}

// DataDir is the daemon's --data directory (catalog, peer cache, socket).
func (h *Host) DataDir() string { return filepath.Join(h.Dir, "data") }

// ShareDir is the daemon's --share directory.
func (h *Host) ShareDir() string { return filepath.Join(h.Dir, "share") }

// OutDir is where downloads made from this host land.
func (h *Host) OutDir() string { return filepath.Join(h.Dir, "out") }

// LogPath is the file collecting the daemon's stdout and stderr over all
// its starts.
func (h *Host) LogPath() string { return filepath.Join(h.Dir, "servent.log") }

// Listen is the daemon's --listen address.
func (h *Host) Listen() string { return netip.AddrPortFrom(h.Addr.Addr(), Port).String() }

// Start launches `servent run` inside the host's namespace and blocks until
// its control socket answers `servent status` (at most readyTimeout). The
// log is appended to LogPath with a header per start.
func (h *Host) Start(ctx context.Context, opts StartOptions) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc != nil && !h.proc.Exited() {
		return fmt.Errorf("drill: %s: daemon already running", h.Name)
	}
	for _, d := range []string{h.DataDir(), h.ShareDir(), h.OutDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("drill: %s: %w", h.Name, err)
		}
	}
	h.starts++
	args := []string{"--data", h.DataDir(), "--share", h.ShareDir(), "--name", h.Name, "--log-level", "debug"}
	if !opts.DefaultListen {
		args = append(args, "--listen", h.Listen())
	}
	for _, s := range opts.Seeds {
		args = append(args, "--seed", s)
	}
	if opts.Role != "" {
		args = append(args, "--role", opts.Role)
	}
	p, err := proc.Start(ctx, proc.Options{
		Name:   h.Name,
		Binary: h.lan.cfg.Binary,
		Prefix: []string{"ip", "netns", "exec", h.NS},
		Args:   args,
		Env:    opts.Env,
		Log:    h.LogPath(),
		Header: fmt.Sprintf("=== drill: start %d of %s at %s, env %v", h.starts, h.Name, time.Now().UTC().Format(time.RFC3339Nano), opts.Env),
		Ready: func(ctx context.Context) error {
			_, err := h.Status(ctx)
			return err
		},
		ReadyTimeout: readyTimeout,
		Poll:         100 * time.Millisecond,
	})
	if err != nil {
		if errors.Is(err, proc.ErrExited) {
			return fmt.Errorf("drill: %w: %w", ErrNotRunning, err)
		}
		return fmt.Errorf("drill: %w", err)
	}
	h.proc = p
	return nil
}

// Running reports whether the host's daemon process is alive.
func (h *Host) Running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.proc != nil && !h.proc.Exited()
}

// PID returns the daemon's process id, 0 when none runs.
func (h *Host) PID() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil || h.proc.Exited() {
		return 0
	}
	return h.proc.PID()
}

// daemon returns the current process, nil when none was started.
func (h *Host) daemon() *proc.Process {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.proc
}

// Stop ends the daemon as Ctrl-C would: SIGTERM (graceful leave), then
// SIGKILL if it has not exited within 10 s. It blocks until the process is
// gone and returns an error when it had to be killed.
func (h *Host) Stop() error {
	p := h.daemon()
	if p == nil || !p.Stop(stopGrace) {
		return nil
	}
	return fmt.Errorf("drill: %s ignored SIGTERM for %s: killed", h.Name, stopGrace)
}

// Kill sends sig to the daemon; for SIGKILL it blocks until the process is
// gone (a crash or a pulled power cord).
func (h *Host) Kill(sig syscall.Signal) error {
	p := h.daemon()
	if p == nil || p.Exited() {
		return ErrNotRunning
	}
	if sig == syscall.SIGKILL {
		p.Kill()
		return nil
	}
	if err := p.Signal(sig); err != nil {
		return fmt.Errorf("drill: %w", err)
	}
	return nil
}

// kill is Close's hard stop: SIGKILL to the daemon's process group.
func (h *Host) kill() {
	if p := h.daemon(); p != nil {
		p.Kill()
	}
}

// LogTail returns the last n lines of the daemon's log.
func (h *Host) LogTail(n int) string { return proc.LogTail(h.LogPath(), n) }
