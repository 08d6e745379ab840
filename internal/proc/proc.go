package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// ErrExited is returned when a process ended before it was ready, or is
// expected to run but does not.
var ErrExited = errors.New("servent process exited")

// Options describe one `servent run` process.
type Options struct {
	// Name names the process in errors (the node's --name, usually).
	Name string
	// Binary is the servent executable.
	Binary string
	// Prefix is run in front of the binary, e.g. ip netns exec NS; empty:
	// the binary runs directly.
	Prefix []string
	// Args follow "run" (--data, --share, --listen, ...).
	Args []string
	// Env holds KEY=VALUE settings added to the environment, from which
	// every SERVENT_* variable of the caller is removed first (CleanEnv).
	Env []string
	// Log is the file collecting stdout and stderr; it is appended to.
	Log string
	// Header, when set, is written to Log as one line before the start.
	Header string
	// Ready reports whether the process is ready (typically: its control
	// API answers). Start polls it every Poll until it returns nil.
	Ready func(ctx context.Context) error
	// ReadyTimeout bounds the wait for Ready (default 30 s); Poll is its
	// period (default 50 ms).
	ReadyTimeout, Poll time.Duration
}

// Process is one running servent. Its methods are safe for concurrent use.
type Process struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done closes
}

// Start launches the process and blocks until opts.Ready accepts it, the
// process exits (ErrExited, with the end of its log), ReadyTimeout passes
// or ctx ends. On failure the process is killed before Start returns.
func Start(ctx context.Context, opts Options) (*Process, error) {
	logf, err := os.OpenFile(opts.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Name, err)
	}
	if opts.Header != "" {
		fmt.Fprintln(logf, opts.Header)
	}
	argv := append(append(slices.Clone(opts.Prefix), opts.Binary, "run"), opts.Args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(CleanEnv(), opts.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("%s: start: %w", opts.Name, err)
	}
	p := &Process{name: opts.Name, log: opts.Log, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	if opts.Ready == nil {
		return p, nil
	}
	if err := p.wait(ctx, opts); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

// wait polls opts.Ready until it accepts the process.
func (p *Process) wait(ctx context.Context, opts Options) error {
	limit, poll := opts.ReadyTimeout, opts.Poll
	if limit <= 0 {
		limit = 30 * time.Second
	}
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		err := opts.Ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s: %w: %v\n%s", p.name, ErrExited, p.err, LogTail(p.log, 20))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v: %w (last: %v)\n%s", p.name, limit, ctx.Err(), err, LogTail(p.log, 20))
		case <-tick.C:
		}
	}
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the process's exit error; valid once Done is closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// PID is the process id (of the prefix command when there is one, which
// exec's the binary: ip netns exec does).
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Signal sends sig to the process; ErrExited when it is gone.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return ErrExited
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s: signal %v: %w", p.name, sig, err)
	}
	return nil
}

// Stop ends the process as Ctrl-C would: SIGTERM (a graceful leave), then
// SIGKILL to its process group if it has not exited within grace. It
// blocks until the process is gone and reports whether it had to be
// killed.
func (p *Process) Stop(grace time.Duration) (killed bool) {
	if p.Exited() {
		return false
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return false
	case <-time.After(grace):
	}
	p.Kill()
	return true
}

// Kill sends SIGKILL to the process group (a crash, a pulled power cord)
// and blocks until the process is gone.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	killGroup(p.cmd.Process)
	<-p.done
}

// LogTail returns the last n lines of the log file at path.
func LogTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// CleanEnv is the environment without SERVENT_* settings, so that the
// caller's shell cannot change a test or a benchmark.
func CleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SERVENT_") {
			out = append(out, kv)
		}
	}
	return out
}

// Build compiles ./cmd/servent of the module at moduleDir into out as it
// is shipped (README, "Platforms"): without cgo, so that no C library is
// loaded into each of many processes, and without -race, within ctx.
func Build(ctx context.Context, moduleDir, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/servent")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/servent: %w\n%s", err, b)
	}
	return nil
}
