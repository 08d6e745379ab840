//go:build linux

package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
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
	proc   *daemon
	starts int
}

// daemon is one running `servent run` process.
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done closes
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
	if h.proc != nil && !h.proc.exited() {
		h.mu.Unlock()
		return fmt.Errorf("drill: %s: daemon already running", h.Name)
	}
	for _, d := range []string{h.DataDir(), h.ShareDir(), h.OutDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			h.mu.Unlock()
			return fmt.Errorf("drill: %s: %w", h.Name, err)
		}
	}
	logf, err := os.OpenFile(h.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		h.mu.Unlock()
		return fmt.Errorf("drill: %s: %w", h.Name, err)
	}
	h.starts++
	fmt.Fprintf(logf, "=== drill: start %d of %s at %s, env %v\n", h.starts, h.Name, time.Now().UTC().Format(time.RFC3339Nano), opts.Env)
	args := []string{"netns", "exec", h.NS, h.lan.cfg.Binary, "run",
		"--data", h.DataDir(), "--share", h.ShareDir(), "--name", h.Name, "--log-level", "debug"}
	if !opts.DefaultListen {
		args = append(args, "--listen", h.Listen())
	}
	for _, s := range opts.Seeds {
		args = append(args, "--seed", s)
	}
	if opts.Role != "" {
		args = append(args, "--role", opts.Role)
	}
	cmd := exec.Command("ip", args...)
	cmd.Env = append(cleanEnv(), opts.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group, and killed with the test binary if it dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		h.mu.Unlock()
		return fmt.Errorf("drill: %s: start: %w", h.Name, err)
	}
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		logf.Close()
		close(d.done)
	}()
	h.proc = d
	h.mu.Unlock()

	err = Eventually(ctx, readyTimeout, 100*time.Millisecond, func() error {
		if d.exited() {
			return fmt.Errorf("%w: exited: %v", ErrNotRunning, d.err)
		}
		_, err := h.Status(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("drill: %s not ready: %w\n%s", h.Name, err, h.LogTail(20))
	}
	return nil
}

// cleanEnv is the test's environment without SERVENT_* settings, so a
// developer's shell cannot change a drill.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SERVENT_") {
			out = append(out, kv)
		}
	}
	return out
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// Running reports whether the host's daemon process is alive.
func (h *Host) Running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.proc != nil && !h.proc.exited()
}

// PID returns the daemon's process id, 0 when none runs.
func (h *Host) PID() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil || h.proc.exited() {
		return 0
	}
	return h.proc.cmd.Process.Pid
}

// Stop ends the daemon as Ctrl-C would: SIGTERM (graceful leave), then
// SIGKILL if it has not exited within 10 s. It blocks until the process is
// gone and returns the exit error when it had to be killed.
func (h *Host) Stop() error {
	h.mu.Lock()
	d := h.proc
	h.mu.Unlock()
	if d == nil || d.exited() {
		return nil
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return nil
	case <-time.After(stopGrace):
	}
	d.cmd.Process.Kill()
	<-d.done
	return fmt.Errorf("drill: %s ignored SIGTERM for %s: killed", h.Name, stopGrace)
}

// Kill sends sig to the daemon; for SIGKILL it blocks until the process is
// gone (a crash or a pulled power cord).
func (h *Host) Kill(sig syscall.Signal) error {
	h.mu.Lock()
	d := h.proc
	h.mu.Unlock()
	if d == nil || d.exited() {
		return ErrNotRunning
	}
	if err := d.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("drill: %s: signal %v: %w", h.Name, sig, err)
	}
	if sig == syscall.SIGKILL {
		<-d.done
	}
	return nil
}

// kill is Close's hard stop: SIGKILL to the daemon's process group.
func (h *Host) kill() {
	h.mu.Lock()
	d := h.proc
	h.mu.Unlock()
	if d == nil || d.exited() {
		return
	}
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
	}
}

// LogTail returns the last n lines of the daemon's log.
func (h *Host) LogTail(n int) string {
	b, err := os.ReadFile(h.LogPath())
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
