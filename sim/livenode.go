package sim

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/internal/proc"
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
	proc   *proc.Process
}

func (n *liveNode) dataDir() string  { return filepath.Join(n.dir, "data") }
func (n *liveNode) shareDir() string { return filepath.Join(n.dir, "share") }

// start launches the servent and blocks until its control API answers.
func (n *liveNode) start(ctx context.Context, binary string, args, env []string) error {
	n.client = api.NewClient(n.dataDir())
	p, err := proc.Start(ctx, proc.Options{
		Name:   n.name,
		Binary: binary,
		Args:   append([]string{"--data", n.dataDir(), "--share", n.shareDir(), "--name", n.name, "--log-level", "warn"}, args...),
		Env:    env,
		Log:    filepath.Join(n.dir, "servent.log"),
		Ready: func(ctx context.Context) error {
			_, err := n.client.Status(ctx)
			return err
		},
		ReadyTimeout: liveReady,
		Poll:         livePoll,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrLive, err)
	}
	n.proc = p
	return nil
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
		if n.proc.Exited() {
			return st, fmt.Errorf("%w: %s exited: %v\n%s", ErrLive, n.name, n.proc.Err(), proc.LogTail(filepath.Join(n.dir, "servent.log"), 10))
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
	if n.proc != nil {
		n.proc.Stop(liveStopGrace)
	}
}
