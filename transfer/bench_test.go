//go:build linux

package transfer

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"golang.org/x/sys/unix"

	"github.com/servent-p2p/servent/content"
)

// benchSize is the file size moved by BenchmarkDownload: SERVENT_BENCH_BYTES
// if set, else 256 MiB under -short, else 1 GiB.
func benchSize(b *testing.B) int64 {
	if s := os.Getenv("SERVENT_BENCH_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("SERVENT_BENCH_BYTES: %v", err)
		}
		return n
	}
	if testing.Short() {
		return 256 << 20
	}
	return 1 << 30
}

// BenchmarkDownload moves one file from a serving process (this test
// binary re-run as TestServeForBenchmark) to this one, both on loopback:
// over HTTP/3 with the Downloader (1 MiB chunks verified, written,
// fsynced, re-read and hashed whole, renamed) and, in the same iteration,
// the same bytes over one plain quic-go stream from the same process,
// read into io.Discard. It reports both rates, their ratio and the CPU
// both processes spent per GB. The download goes to a fresh temp dir, or
// to $SERVENT_BENCH_OUT if set (a tmpfs takes the disk out).
//
// shared-cores lets both processes use every core, as when the servents
// share one machine; core-each pins the serving process to CPU 0 and this
// one to CPU 1, as two machines on a LAN would each bring their own CPU.
func BenchmarkDownload(b *testing.B) {
	size := benchSize(b)
	path := filepath.Join(b.TempDir(), "bench.bin")
	writeRandomStream(b, path, size)
	b.Run("shared-cores", func(b *testing.B) { benchDownload(b, path, size, false) })
	b.Run("core-each", func(b *testing.B) {
		if runtime.NumCPU() < 2 {
			b.Skip("needs two CPUs")
		}
		benchDownload(b, path, size, true)
	})
}

func benchDownload(b *testing.B, path string, size int64, pin bool) {
	cpu := -1
	if pin {
		cpu = 0
		defer pinThisProcess(b, 1)()
	}
	srv := startServing(b, path, cpu)
	d := newTestDownloader(b, newState(), func(c *Config) {
		c.QUICConfig, c.ChunkTimeout = nil, 0
		if v, err := strconv.Atoi(os.Getenv("SERVENT_BENCH_PERSOURCE")); err == nil {
			c.PerSource = v
		}
		if os.Getenv("SERVENT_BENCH_DEBUG") != "" {
			c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	})
	raw := newRawClient(b)
	// Wall time and CPU time of this process and of the serving one,
	// for the download and for the raw stream.
	var dl, rw struct{ wall, client, server time.Duration }
	measure := func(m *struct{ wall, client, server time.Duration }, f func()) {
		start, client, server := time.Now(), cpuTime(), srv.cpuTime(b)
		f()
		m.wall += time.Since(start)
		m.client += cpuTime() - client
		m.server += srv.cpuTime(b) - server
	}
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		out := b.TempDir()
		if dir := os.Getenv("SERVENT_BENCH_OUT"); dir != "" {
			out = dir
		}
		var res Result
		measure(&dl, func() {
			var err error
			res, err = d.Get(context.Background(), Request{Hash: srv.hash, Size: size, Name: "bench.bin", OutDir: out, Sources: []Source{srv.h3}})
			if err != nil {
				b.Fatal(err)
			}
		})
		b.StopTimer()
		os.Remove(res.Path)
		b.StartTimer()
		measure(&rw, func() {
			if n := raw.fetch(b, srv.raw); n != size {
				b.Fatalf("raw stream moved %d bytes, want %d", n, size)
			}
		})
	}
	gb := float64(size) * float64(b.N) / 1e9
	b.ReportMetric(gb*1e3/dl.wall.Seconds(), "download_MB/s")
	b.ReportMetric(gb*1e3/rw.wall.Seconds(), "rawquic_MB/s")
	b.ReportMetric(rw.wall.Seconds()/dl.wall.Seconds(), "ratio")
	b.ReportMetric(float64(peakRSS())/1e6, "client_peakRSS_MB")
	b.ReportMetric(float64(srv.peakRSS)/1e6, "server_peakRSS_MB")
	b.ReportMetric(dl.client.Seconds()/gb, "download_client_cpu_s/GB")
	b.ReportMetric(dl.server.Seconds()/gb, "download_server_cpu_s/GB")
	b.ReportMetric(rw.client.Seconds()/gb, "rawquic_client_cpu_s/GB")
	b.ReportMetric(rw.server.Seconds()/gb, "rawquic_server_cpu_s/GB")
}

// benchServeEnv names the file TestServeForBenchmark serves.
const benchServeEnv = "SERVENT_BENCH_SERVE"

// TestServeForBenchmark is the serving process of BenchmarkDownload: it
// serves the file named by $SERVENT_BENCH_SERVE over HTTP/3 (a Server, as
// a servent does) and over a raw quic-go stream, prints where, and then
// answers every line on stdin with its CPU time so far and its peak RSS,
// until stdin closes.
func TestServeForBenchmark(t *testing.T) {
	path := os.Getenv(benchServeEnv)
	if path == "" {
		t.Skip("the serving process of BenchmarkDownload, started by it")
	}
	cat := newCatalog()
	f := cat.add(t, filepath.Dir(path), filepath.Base(path))
	p := newPeer(t, "127.0.0.40", cat, ServerConfig{}, nil)
	raw := serveRawQUIC(t, "127.0.0.41", path)
	fmt.Printf("serving %s %x %s %s\n", p.addr, p.fp, raw, f.Hash)
	for sc := bufio.NewScanner(os.Stdin); sc.Scan(); {
		fmt.Printf("cpu %d %d\n", cpuTime(), peakRSS())
	}
}

// servingProcess is a running TestServeForBenchmark.
type servingProcess struct {
	h3   Source
	raw  net.Addr
	hash content.Hash
	in   io.WriteCloser
	out  *bufio.Scanner

	peakRSS int64 // as of the last cpuTime
}

// startServing starts the serving process for path, pinned to CPU cpu
// unless cpu < 0, and stops it at cleanup.
func startServing(b *testing.B, path string, cpu int) *servingProcess {
	b.Helper()
	name, args := os.Args[0], []string{"-test.run=^TestServeForBenchmark$"}
	if cpu >= 0 {
		if _, err := exec.LookPath("taskset"); err != nil {
			b.Skip("pinning needs taskset (util-linux)")
		}
		name, args = "taskset", append([]string{"-c", strconv.Itoa(cpu), name}, args...)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), benchServeEnv+"="+path)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start the serving process: %v", err)
	}
	b.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	s := &servingProcess{in: in, out: bufio.NewScanner(out)}
	for s.out.Scan() {
		var h3, fp, raw, hash string
		if _, err := fmt.Sscanf(s.out.Text(), "serving %s %s %s %s", &h3, &fp, &raw, &hash); err != nil {
			continue
		}
		var err error
		if s.h3.Addr, err = netip.ParseAddrPort(h3); err != nil {
			b.Fatal(err)
		}
		fpb, err := hex.DecodeString(fp)
		if err != nil || len(fpb) != len(s.h3.Fingerprint) {
			b.Fatalf("the serving process sent fingerprint %q", fp)
		}
		s.h3.Name, s.h3.Fingerprint = "server", [32]byte(fpb)
		if s.raw, err = net.ResolveUDPAddr("udp", raw); err != nil {
			b.Fatal(err)
		}
		if s.hash, err = content.ParseHash(hash); err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Fatalf("the serving process said nothing usable: %v", s.out.Err())
	return nil
}

// cpuTime asks the serving process for its CPU time so far, and notes
// its peak RSS.
func (s *servingProcess) cpuTime(b *testing.B) time.Duration {
	if _, err := fmt.Fprintln(s.in, "cpu"); err != nil {
		b.Fatal(err)
	}
	for s.out.Scan() {
		var cpu time.Duration
		if _, err := fmt.Sscanf(s.out.Text(), "cpu %d %d", &cpu, &s.peakRSS); err == nil {
			return cpu
		}
	}
	b.Fatalf("the serving process is gone: %v", s.out.Err())
	return 0
}

// pinThisProcess pins every thread of this process (and so every thread
// they start) to CPU cpu with GOMAXPROCS 1, as the serving process gets
// from taskset, and returns a function that undoes both.
func pinThisProcess(b *testing.B, cpu int) func() {
	b.Helper()
	tids, err := os.ReadDir("/proc/self/task")
	if err != nil {
		b.Skipf("cannot list threads: %v", err)
	}
	var was unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		b.Skipf("sched_getaffinity: %v", err)
	}
	var one unix.CPUSet
	one.Set(cpu)
	set := func(s *unix.CPUSet) {
		for _, t := range tids {
			if tid, err := strconv.Atoi(t.Name()); err == nil {
				unix.SchedSetaffinity(tid, s) // a thread that just exited is fine
			}
		}
	}
	set(&one)
	procs := runtime.GOMAXPROCS(1)
	return func() {
		runtime.GOMAXPROCS(procs)
		tids, _ = os.ReadDir("/proc/self/task")
		set(&was)
	}
}

const rawALPN = "servent-bench-raw"

// serveRawQUIC sends the file at path over one QUIC stream to whoever
// opens one, on ip; it returns the address.
func serveRawQUIC(t testing.TB, ip, path string) net.Addr {
	t.Helper()
	tr := newTransport(t, ip)
	cert, _ := selfSigned(t)
	ln, err := tr.Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{rawALPN}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			go serveRaw(conn, path)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return tr.Conn.LocalAddr()
}

func serveRaw(conn *quic.Conn, path string) {
	defer conn.CloseWithError(0, "")
	st, err := conn.AcceptStream(context.Background())
	if err != nil {
		return
	}
	st.Read(make([]byte, 1))
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	io.Copy(st, f)
	st.Close()
	io.Copy(io.Discard, st) // until the client is done
}

// rawClient reads whole files from serveRawQUIC servers.
type rawClient struct{ tr *quic.Transport }

func newRawClient(b *testing.B) *rawClient {
	b.Helper()
	return &rawClient{tr: newTransport(b, "127.0.0.1")}
}

// fetch reads the whole file from addr over one new connection and
// stream, with the Downloader's default flow-control windows.
func (c *rawClient) fetch(b *testing.B, addr net.Addr) int64 {
	conn, err := c.tr.Dial(context.Background(), addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{rawALPN}}, &quic.Config{
		InitialStreamReceiveWindow: 2 << 20, MaxStreamReceiveWindow: 16 << 20,
		InitialConnectionReceiveWindow: 8 << 20, MaxConnectionReceiveWindow: 64 << 20,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	st, err := conn.OpenStreamSync(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Write([]byte{1}); err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, st)
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	return n
}

// peakRSS returns the process's peak resident set size in bytes (Linux;
// 0 elsewhere).
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// writeRandomStream writes size pseudo-random bytes to path without
// holding them in memory, so peak RSS reflects the transfer alone.
func writeRandomStream(b *testing.B, path string, size int64) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r := mrand.NewChaCha8([32]byte{42})
	if _, err := io.CopyN(f, r, size); err != nil {
		b.Fatal(err)
	}
}
