//go:build linux

package drill

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/internal/proc"
)

// cliTimeout bounds a client command that should answer at once.
const cliTimeout = 10 * time.Second

// ErrExit is wrapped by CLI errors for a non-zero exit status.
var ErrExit = errors.New("drill: cli failed")

// CLIError is a client command that exited with a non-zero status.
type CLIError struct {
	Args   []string
	Code   int
	Stderr string
}

func (e *CLIError) Error() string {
	return fmt.Sprintf("servent %s: exit %d: %s", strings.Join(e.Args, " "), e.Code, strings.TrimSpace(e.Stderr))
}

// Unwrap makes errors.Is(err, ErrExit) true.
func (e *CLIError) Unwrap() error { return ErrExit }

// cli runs `servent SUBCOMMAND --data DATA --json ARGS...` from the root
// namespace (the control API is a unix socket in the data dir, reachable
// from any network namespace) and returns its standard output.
func (h *Host) cli(ctx context.Context, timeout time.Duration, sub string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	full := append([]string{sub, "--data", h.DataDir(), "--json"}, args...)
	cmd := exec.CommandContext(ctx, h.lan.cfg.Binary, full...)
	cmd.Env = proc.CleanEnv()
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ctx.Err() == nil {
			return stdout.Bytes(), &CLIError{Args: full, Code: ee.ExitCode(), Stderr: stderr.String()}
		}
		return stdout.Bytes(), fmt.Errorf("servent %s: %w: %s", strings.Join(full, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Status runs `servent status --json`.
func (h *Host) Status(ctx context.Context) (api.Status, error) {
	var st api.Status
	out, err := h.cli(ctx, cliTimeout, "status")
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return st, fmt.Errorf("drill: %s: status: %w: %q", h.Name, err, out)
	}
	return st, nil
}

// Peers runs `servent peers --json` (one api.Peer per line).
func (h *Host) Peers(ctx context.Context) ([]api.Peer, error) {
	out, err := h.cli(ctx, cliTimeout, "peers")
	if err != nil {
		return nil, err
	}
	return decodeLines[api.Peer](out)
}

// Shares runs `servent shares --json` (one api.Share per line).
func (h *Host) Shares(ctx context.Context) ([]api.Share, error) {
	out, err := h.cli(ctx, cliTimeout, "shares")
	if err != nil {
		return nil, err
	}
	return decodeLines[api.Share](out)
}

func decodeLines[T any](out []byte) ([]T, error) {
	var res []T
	for _, line := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return res, fmt.Errorf("drill: decode %q: %w", line, err)
		}
		res = append(res, v)
	}
	return res, nil
}

// SearchOutcome is what one `servent search --json` printed.
type SearchOutcome struct {
	// Results holds the last line seen for each content hash (a result
	// line repeats with more sources as more peers answer).
	Results []api.Result
	// Done is the stream's final record when the CLI prints one.
	Done *api.SearchDone
	// Found is true when the CLI exited 0 (something found).
	Found bool
	// Elapsed is the wall time of the command.
	Elapsed time.Duration
}

// Search runs `servent search --json --timeout T [--max M] WORDS...`
// (max 0: no --max). Exit status 1 (nothing found) is not an error; 2 or a
// failure to run is.
func (h *Host) Search(ctx context.Context, timeout time.Duration, max int, words ...string) (SearchOutcome, error) {
	var so SearchOutcome
	start := time.Now()
	args := []string{"--timeout", timeout.String()}
	if max > 0 {
		args = append(args, "--max", strconv.Itoa(max))
	}
	args = append(args, words...)
	out, err := h.cli(ctx, timeout+cliTimeout, "search", args...)
	so.Elapsed = time.Since(start)
	var ce *CLIError
	switch {
	case err == nil:
		so.Found = true
	case errors.As(err, &ce) && ce.Code == 1:
	default:
		return so, err
	}
	byHash := map[string]int{}
	for _, line := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		r, done, err := decodeSearchLine(line)
		if err != nil {
			return so, fmt.Errorf("drill: %s: search: %w", h.Name, err)
		}
		if done != nil {
			so.Done = done
		}
		if r == nil {
			continue
		}
		if i, ok := byHash[r.Hash]; ok {
			so.Results[i] = *r
			continue
		}
		byHash[r.Hash] = len(so.Results)
		so.Results = append(so.Results, *r)
	}
	return so, nil
}

// decodeSearchLine accepts both a bare api.Result and an api.SearchEvent.
func decodeSearchLine(line []byte) (*api.Result, *api.SearchDone, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(line, &keys); err != nil {
		return nil, nil, fmt.Errorf("decode %q: %w", line, err)
	}
	_, isResult := keys["result"]
	_, isDone := keys["done"]
	_, isErr := keys["error"]
	if isResult || isDone || isErr {
		var ev api.SearchEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, nil, fmt.Errorf("decode %q: %w", line, err)
		}
		if ev.Error != "" {
			return nil, nil, fmt.Errorf("search error: %s", ev.Error)
		}
		return ev.Result, ev.Done, nil
	}
	var r api.Result
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, nil, fmt.Errorf("decode %q: %w", line, err)
	}
	return &r, nil, nil
}

// Find searches for a file by words that match it alone (--max 1: the
// search ends at the first hit) and returns the result if its hash is hash.
func (h *Host) Find(ctx context.Context, timeout time.Duration, hash string, words ...string) (api.Result, SearchOutcome, bool, error) {
	so, err := h.Search(ctx, timeout, 1, words...)
	if err != nil {
		return api.Result{}, so, false, err
	}
	for _, r := range so.Results {
		if sameHash(r.Hash, hash) {
			return r, so, true, nil
		}
	}
	return api.Result{}, so, false, nil
}

// Get runs `servent get --json --out OUT HASH` to completion (at most
// timeout) and returns its final record.
func (h *Host) Get(ctx context.Context, timeout time.Duration, hash, out string) (api.GetDone, error) {
	g, err := h.StartGet(ctx, hash, out)
	if err != nil {
		return api.GetDone{}, err
	}
	return g.Wait(timeout)
}

// GetRun is a `servent get` running in the background.
type GetRun struct {
	host   *Host
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{}
	start  time.Time

	mu       sync.Mutex
	progress api.Progress
	final    *api.GetDone
	lines    []string
	decErr   error
	waitErr  error
}

// StartGet starts `servent get --json --out OUT HASH` and returns at once;
// the command's progress lines, if it prints any, are tracked.
func (h *Host) StartGet(ctx context.Context, hash, out string) (*GetRun, error) {
	full := []string{"get", "--data", h.DataDir(), "--json", "--out", out, hash}
	cmd := exec.CommandContext(ctx, h.lan.cfg.Binary, full...)
	cmd.Env = proc.CleanEnv()
	cmd.WaitDelay = time.Second
	g := &GetRun{host: h, cmd: cmd, done: make(chan struct{}), start: time.Now()}
	cmd.Stderr = &g.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("drill: %s: get: %w", h.Name, err)
	}
	go g.read(stdout)
	return g, nil
}

func (g *GetRun) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		p, d, err := decodeGetLine(line)
		g.mu.Lock()
		g.lines = append(g.lines, string(line))
		switch {
		case err != nil:
			g.decErr = err
		case p != nil:
			g.progress = *p
		case d != nil:
			g.final = d
		}
		g.mu.Unlock()
	}
	err := g.cmd.Wait()
	g.mu.Lock()
	g.waitErr = err
	g.mu.Unlock()
	close(g.done)
}

// decodeGetLine accepts an api.GetEvent line or a bare api.GetDone.
func decodeGetLine(line []byte) (*api.Progress, *api.GetDone, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(line, &keys); err != nil {
		return nil, nil, fmt.Errorf("decode %q: %w", line, err)
	}
	_, isProg := keys["progress"]
	_, isDone := keys["done"]
	_, isErr := keys["error"]
	if isProg || isDone || isErr {
		var ev api.GetEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, nil, fmt.Errorf("decode %q: %w", line, err)
		}
		if ev.Error != "" {
			return nil, nil, fmt.Errorf("get error: %s", ev.Error)
		}
		return ev.Progress, ev.Done, nil
	}
	var d api.GetDone
	if err := json.Unmarshal(line, &d); err != nil {
		return nil, nil, fmt.Errorf("decode %q: %w", line, err)
	}
	return nil, &d, nil
}

// Progress returns the last progress line seen (zero when the CLI prints
// none in --json mode).
func (g *GetRun) Progress() api.Progress {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.progress
}

// Exited reports whether the command has ended.
func (g *GetRun) Exited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// Done is closed when the command has ended.
func (g *GetRun) Done() <-chan struct{} { return g.done }

// Kill ends the command with SIGKILL and waits for it: the person closes
// the terminal mid-download.
func (g *GetRun) Kill() {
	g.cmd.Process.Signal(syscall.SIGKILL)
	<-g.done
}

// Wait blocks until the command ends (killing it after timeout) and
// returns its final record, or an error with what it printed.
func (g *GetRun) Wait(timeout time.Duration) (api.GetDone, error) {
	select {
	case <-g.done:
	case <-time.After(timeout):
		g.Kill()
		return api.GetDone{}, fmt.Errorf("drill: %s: get still running after %s: %s", g.host.Name, timeout, g.output())
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.waitErr != nil {
		return api.GetDone{}, fmt.Errorf("drill: %s: get: %w: %s", g.host.Name, g.waitErr, g.outputLocked())
	}
	if g.final == nil {
		return api.GetDone{}, fmt.Errorf("drill: %s: get printed no final record: %s", g.host.Name, g.outputLocked())
	}
	return *g.final, nil
}

func (g *GetRun) output() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.outputLocked()
}

func (g *GetRun) outputLocked() string {
	last := g.lines
	if len(last) > 3 {
		last = last[len(last)-3:]
	}
	return fmt.Sprintf("stdout %q stderr %q decode %v", last, strings.TrimSpace(g.stderr.String()), g.decErr)
}
