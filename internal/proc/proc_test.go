package proc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shell runs script with /bin/sh in place of a servent: Start runs
// PREFIX BINARY run ARGS, and sh -c SCRIPT takes the rest as its $0, $1 ...
func shell(t *testing.T, script string, ready func(context.Context) error) Options {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("process groups and parent-death signals: Linux")
	}
	return Options{
		Name:         "sh",
		Binary:       "servent",
		Prefix:       []string{"/bin/sh", "-c", script, "sh"},
		Log:          filepath.Join(t.TempDir(), "log"),
		Header:       "=== header",
		Ready:        ready,
		ReadyTimeout: 5 * time.Second,
		Poll:         10 * time.Millisecond,
	}
}

func TestStartStop(t *testing.T) {
	opts := shell(t, `echo "args: $*"; echo "env: $SERVENT_X $OTHER"; exec sleep 30`, nil)
	t.Setenv("SERVENT_X", "leaked")
	opts.Env = []string{"OTHER=given"}
	calls := 0
	opts.Ready = func(context.Context) error {
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	}
	p, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Exited() || p.PID() == 0 {
		t.Fatal("not running after Start")
	}
	if killed := p.Stop(5 * time.Second); killed {
		t.Fatal("sleep needed SIGKILL")
	}
	if !p.Exited() {
		t.Fatal("running after Stop")
	}
	log := LogTail(opts.Log, 10)
	for _, want := range []string{"=== header", "args: servent run", "env:  given"} {
		if !strings.Contains(log, want) {
			t.Fatalf("log %q lacks %q", log, want)
		}
	}
	if p.Stop(time.Second) || p.Signal(syscall.SIGTERM) == nil {
		t.Fatal("a stopped process stops or takes signals again")
	}
}

func TestStopKillsWhatIgnoresSIGTERM(t *testing.T) {
	opts := shell(t, `trap "" TERM; sleep 30 & wait`, nil)
	p, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let sh install its trap
	start := time.Now()
	if !p.Stop(200 * time.Millisecond) {
		t.Fatal("Stop did not need SIGKILL")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Stop took %v", d)
	}
}

func TestExitBeforeReady(t *testing.T) {
	opts := shell(t, `echo boom; exit 3`, func(context.Context) error { return errors.New("no socket") })
	_, err := Start(context.Background(), opts)
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want ErrExited with the log's end", err)
	}
}

func TestNotReadyIsKilled(t *testing.T) {
	opts := shell(t, `echo $$ > "$LOGDIR/pid"; exec sleep 30`, func(context.Context) error { return errors.New("no socket") })
	opts.Env = []string{"LOGDIR=" + filepath.Dir(opts.Log)}
	opts.ReadyTimeout = 300 * time.Millisecond
	_, err := Start(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("err = %v, want not ready", err)
	}
	b, rerr := os.ReadFile(filepath.Join(filepath.Dir(opts.Log), "pid"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if _, err := os.Stat("/proc/" + strings.TrimSpace(string(b))); err == nil {
		t.Fatalf("process %s still runs", strings.TrimSpace(string(b)))
	}
}
