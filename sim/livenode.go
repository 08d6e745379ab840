package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/servent-p2p/servent/api"
)

// Live process limits.
const (
	// liveReady bounds the wait for one servent's control socket.
	liveReady = 30 * time.Second
	// liveStopGrace is how long a servent gets after SIGTERM before SIGKILL.
	liveStopGrace = 5 * time.Second
	// livePoll is the polling period of every "eventually" condition.
	livePoll = 50 * time.Millisecond
)

// ErrLive reports a live run that could not start, settle or measure.
var ErrLive = errors.New("live bench")

// liveNode is one `servent run` process of a live run with its own data
// and share folders under dir.
type liveNode struct {
	name   string
	dir    string
	client *api.Client
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, set before done closes
}

func (n *liveNode) dataDir() string  { return filepath.Join(n.dir, "data") }
func (n *liveNode) shareDir() string { return filepath.Join(n.dir, "share") }
func (n *liveNode) logPath() string  { return filepath.Join(n.dir, "servent.log") }

// start launches the servent and blocks until its control API answers.
func (n *liveNode) start(ctx context.Context, binary string, args, env []string) error {
	logf, err := os.Create(n.logPath())
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrLive, n.name, err)
	}
	args = append([]string{"run", "--data", n.dataDir(), "--share", n.shareDir(), "--name", n.name, "--log-level", "warn"}, args...)
	n.cmd = exec.Command(binary, args...)
	n.cmd.Env = append(cleanServentEnv(), env...)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.SysProcAttr = childAttr()
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("%w: %s: start: %w", ErrLive, n.name, err)
	}
	n.done = make(chan struct{})
	go func() {
		n.err = n.cmd.Wait()
		logf.Close()
		close(n.done)
	}()
	n.client = api.NewClient(n.dataDir())
	_, err = n.waitStatus(ctx, liveReady, func(api.Status) error { return nil })
	return err
}

// waitStatus polls the node's status until ok accepts it, the process
// exits, ctx ends or limit passes; it returns the last status.
func (n *liveNode) waitStatus(ctx context.Context, limit time.Duration, ok func(api.Status) error) (api.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(livePoll)
	defer tick.Stop()
	var st api.Status
	last := errors.New("no status yet")
	for {
		select {
		case <-n.done:
			return st, fmt.Errorf("%w: %s exited: %v\n%s", ErrLive, n.name, n.err, n.logTail())
		default:
		}
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := n.client.Status(rctx)
		rcancel()
		if err == nil {
			st = s
			if err = ok(s); err == nil {
				return st, nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("%w: %s: %w (last: %v)", ErrLive, n.name, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// stop ends the process: SIGTERM, then SIGKILL to its process group after
// liveStopGrace. It blocks until the process is gone.
func (n *liveNode) stop() {
	if n.cmd == nil || n.done == nil {
		return
	}
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
		return
	case <-time.After(liveStopGrace):
	}
	killGroup(n.cmd.Process)
	<-n.done
}

// logTail is the end of the node's log, for error messages.
func (n *liveNode) logTail() string {
	b, _ := os.ReadFile(n.logPath())
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// cleanServentEnv is the environment without SERVENT_* settings, so the
// caller's shell cannot change a live run.
func cleanServentEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SERVENT_") {
			out = append(out, kv)
		}
	}
	return out
}
