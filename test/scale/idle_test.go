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

// BenchmarkIdle measures what an idle servent costs in a network of 100
// with the default settings: CPU (percent of one core) and resident memory
// per node, over idleWindow once the network matches the plan and has been
// quiet for idleQuiet, against a lone servent measured over the same window
// in the same run (the baseline). Not in CI:
//
//	go test -run '^$' -bench Idle -benchtime 1x ./test/scale
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
	time.Sleep(idleQuiet)
	all := append([]*node{lone[0]}, nodes...)
	before := make([]float64, len(all))
	for i, n := range all {
		before[i] = cpuSeconds(b, n)
	}
	time.Sleep(idleWindow)
	var netCPU, netRSS float64
	for i, n := range all[1:] {
		netCPU += cpuSeconds(b, n) - before[i+1]
		netRSS += rssMB(b, n)
	}
	loneCPU := 100 * (cpuSeconds(b, lone[0]) - before[0]) / idleWindow.Seconds()
	loneRSS := rssMB(b, lone[0])
	cpu := 100 * netCPU / idleWindow.Seconds() / float64(len(nodes))
	rss := netRSS / float64(len(nodes))
	b.ReportMetric(cpu, "cpu%/node")
	b.ReportMetric(rss, "MB/node")
	b.ReportMetric(loneCPU, "cpu%/lone")
	b.ReportMetric(loneRSS, "MB/lone")
	b.ReportMetric(rss/loneRSS, "rss/lone")
	b.Logf("idle, %d nodes: %.2f%% of a core and %.1f MB RSS per node; a lone servent %.2f%% and %.1f MB", len(nodes), cpu, rss, loneCPU, loneRSS)
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

// rssMB is n's resident memory (VmRSS) in MiB.
func rssMB(tb testing.TB, n *node) float64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.proc.PID()))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, err := strconv.ParseFloat(string(bytes.Fields(v)[0]), 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb / 1024
		}
	}
	tb.Fatalf("%s: no VmRSS", n.name)
	return 0
}
