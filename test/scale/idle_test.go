package scale

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// Idle measurement windows.
const (
	idleQuiet  = 10 * time.Second // after convergence, before measuring
	idleWindow = 20 * time.Second // CPU time is summed over this
)

// quietTime is idleQuiet, or $SCALE_IDLE_QUIET (a duration such as 5m) to
// measure a network that has been idle for longer.
func quietTime(tb testing.TB) time.Duration {
	v := os.Getenv("SCALE_IDLE_QUIET")
	if v == "" {
		return idleQuiet
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		tb.Fatalf("SCALE_IDLE_QUIET=%q is not a duration such as 5m", v)
	}
	return d
}

// BenchmarkIdle measures what an idle servent costs in a network of 100
// with the default settings: CPU (percent of one core) and resident memory
// per node, over idleWindow once the network matches the plan and has been
// quiet for idleQuiet, against a lone servent measured over the same window
// in the same run (the baseline). Memory is reported as RSS, as PSS (the
// binary's pages are shared by the hundred processes) and as anonymous
// memory (what each node really adds). Not in CI:
//
//	go test -run '^$' -bench Idle -benchtime 1x ./test/scale
//
// SCALE_IDLE_QUIET=5m waits 5 minutes instead of idleQuiet before
// measuring.
func BenchmarkIdle(b *testing.B) {
	ctx := context.Background()
	lone, _ := startNetwork(b, 1, "127.0.17.")
	nodes, _ := startNetwork(b, hosts, "127.0.16.")
	if err := eventually(ctx, settleLimit, func() error {
		_, err := matchesPlan(ctx, nodes)
		return err
	}); err != nil {
		b.Fatalf("not converged: %v", err)
	}
	time.Sleep(quietTime(b))
	all := append([]*node{lone[0]}, nodes...)
	before := make([]float64, len(all))
	for i, n := range all {
		before[i] = cpuSeconds(b, n)
	}
	time.Sleep(idleWindow)
	var netCPU float64
	var net memory
	for i, n := range all[1:] {
		netCPU += cpuSeconds(b, n) - before[i+1]
		m := memoryOf(b, n)
		net.rss, net.pss, net.anon = net.rss+m.rss, net.pss+m.pss, net.anon+m.anon
	}
	k := float64(len(nodes))
	cpu := 100 * netCPU / idleWindow.Seconds() / k
	loneCPU := 100 * (cpuSeconds(b, lone[0]) - before[0]) / idleWindow.Seconds()
	l := memoryOf(b, lone[0])
	b.ReportMetric(cpu, "cpu%/node")
	b.ReportMetric(net.rss/k, "rssMB/node")
	b.ReportMetric(net.pss/k, "pssMB/node")
	b.ReportMetric(net.anon/k, "anonMB/node")
	b.ReportMetric(loneCPU, "cpu%/lone")
	b.ReportMetric(l.rss, "rssMB/lone")
	b.ReportMetric(l.anon, "anonMB/lone")
	b.ReportMetric(net.anon/k/l.anon, "anon/lone")
	b.Logf("idle, %d nodes: %.2f%% of a core, RSS %.1f MB (PSS %.1f, anonymous %.1f) per node; a lone servent %.2f%%, RSS %.1f MB (anonymous %.1f)",
		len(nodes), cpu, net.rss/k, net.pss/k, net.anon/k, loneCPU, l.rss, l.anon)
}

// cpuSeconds is the user+system CPU time n's process has used.
func cpuSeconds(tb testing.TB, n *node) float64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.proc.PID()))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name (which may hold spaces): state is
	// field 3, utime 14 and stime 15.
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+2:])
	utime, _ := strconv.ParseFloat(string(f[11]), 64)
	stime, _ := strconv.ParseFloat(string(f[12]), 64)
	return (utime + stime) / clockTicks
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// memory is n's resident memory in MiB from /proc/PID/smaps_rollup: all
// of it (Rss), its proportional share of pages shared with other
// processes, such as the servent binary's text the other nodes map too
// (Pss), and what is anonymous (Go heap, stacks, runtime).
type memory struct{ rss, pss, anon float64 }

func memoryOf(tb testing.TB, n *node) memory {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", n.proc.PID()))
	if err != nil {
		tb.Fatal(err)
	}
	var m memory
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, err := strconv.ParseFloat(string(f[1]), 64)
		if err != nil {
			continue
		}
		switch string(f[0]) {
		case "Rss:":
			m.rss = kb / 1024
		case "Pss:":
			m.pss = kb / 1024
		case "Anonymous:":
			m.anon = kb / 1024
		}
	}
	if m.rss == 0 {
		tb.Fatalf("%s: no Rss in smaps_rollup", n.name)
	}
	return m
}
