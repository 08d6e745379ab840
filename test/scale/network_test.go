package scale

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/internal/proc"
)

// startConcurrency: servents starting at once (each start is a burst of
// CPU; a hundred at once on two cores starve their failure detectors,
// which real hosts with a CPU each never see).
const startConcurrency = 2

// node is one servent of the network.
type node struct {
	name, dir string
	listen    string // 127.0.15.N:6346
	client    *api.Client
	proc      *proc.Process
}

func (n *node) keyword() string { return "quokka" + n.name[1:] }

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary returns the servent to run: $SCALE_SERVENT when set, otherwise
// ./cmd/servent built once per test process (without -race).
func binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("SCALE_SERVENT"); p != "" {
		return p
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "servent-scale-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "servent")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		binErr = proc.Build(ctx, filepath.Join("..", ".."), binPath)
	})
	if binErr != nil {
		tb.Fatal(binErr)
	}
	return binPath
}

// startNetwork starts n servents with the default settings on
// PREFIX.1..n port 6346 (prefix "127.0.15." for instance), discovery off,
// every one seeded with the first, each sharing one file of its own, and
// startConcurrency at a time. They are stopped when tb ends; their folders
// are kept when it failed. It returns the nodes and when the last start
// completed. It skips tb with -short and outside Linux.
func startNetwork(tb testing.TB, n int, prefix string) ([]*node, time.Time) {
	tb.Helper()
	if testing.Short() {
		tb.Skipf("%d real servent processes: skipped with -short", n)
	}
	if runtime.GOOS != "linux" {
		tb.Skip("needs the 127.0.0.0/8 loopback range of Linux")
	}
	bin := binary(tb)
	base, err := os.MkdirTemp("", "servent-scale-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("logs kept in %s", base)
		} else {
			os.RemoveAll(base)
		}
	})
	nodes := make([]*node, n)
	for i := range nodes {
		name := fmt.Sprintf("h%03d", i+1)
		nd := &node{name: name, dir: filepath.Join(base, name), listen: fmt.Sprintf("%s%d:6346", prefix, i+1)}
		if err := os.MkdirAll(filepath.Join(nd.dir, "share"), 0o755); err != nil {
			tb.Fatal(err)
		}
		body := []byte("the file of " + nd.name + "\n")
		if err := os.WriteFile(filepath.Join(nd.dir, "share", nd.keyword()+" notes.txt"), body, 0o644); err != nil {
			tb.Fatal(err)
		}
		nd.client = api.NewClient(filepath.Join(nd.dir, "data"))
		nodes[i] = nd
	}
	tb.Cleanup(func() { stopAll(tb, nodes) })

	ctx := context.Background()
	began := time.Now()
	if err := start(ctx, bin, nodes[0], ""); err != nil {
		tb.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, startConcurrency)
	)
	for _, nd := range nodes[1:] {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := start(ctx, bin, nd, nodes[0].listen); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		tb.Fatal(errs[0])
	}
	last := time.Now()
	tb.Logf("%d servents started in %v", n, last.Sub(began).Round(time.Millisecond))
	return nodes, last
}

// start launches one servent with the defaults, seeded with seed.
func start(ctx context.Context, bin string, n *node, seed string) error {
	args := []string{"--data", filepath.Join(n.dir, "data"), "--share", filepath.Join(n.dir, "share"),
		"--name", n.name, "--listen", n.listen}
	if seed != "" {
		args = append(args, "--seed", seed)
	}
	p, err := proc.Start(ctx, proc.Options{
		Name: n.name, Binary: bin, Args: args,
		Env: []string{"SERVENT_DISCOVERY=false"},
		Log: filepath.Join(n.dir, "servent.log"),
		Ready: func(ctx context.Context) error {
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err := n.client.Status(rctx)
			return err
		},
		Poll: 100 * time.Millisecond,
	})
	n.proc = p
	return err
}

// stopAll stops every servent at once; a servent that needs SIGKILL fails
// the test.
func stopAll(t testing.TB, nodes []*node) {
	var wg sync.WaitGroup
	for _, n := range nodes {
		if n.proc == nil {
			continue
		}
		wg.Go(func() {
			if n.proc.Stop(10 * time.Second) {
				t.Errorf("%s ignored SIGTERM for 10 s: killed", n.name)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		for _, n := range nodes[:min(3, len(nodes))] {
			t.Logf("%s log:\n%s", n.name, proc.LogTail(filepath.Join(n.dir, "servent.log"), 20))
		}
	}
}
