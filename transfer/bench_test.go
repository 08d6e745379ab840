package transfer

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// BenchmarkDownload writes into a fresh temp dir, or SERVENT_BENCH_OUT if set
// (e.g. a tmpfs, to take the disk out of the measurement).

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

// BenchmarkDownload moves one file from a serving node to a downloading
// node over loopback (HTTP/3, 1 MiB chunks verified, written, fsynced,
// re-hashed, renamed) and, in the same iteration, the same bytes over one
// plain quic-go stream read into io.Discard; it reports both rates and
// their ratio.
func BenchmarkDownload(b *testing.B) {
	size := benchSize(b)
	cat := newCatalog()
	root := b.TempDir()
	writeRandomStream(b, filepath.Join(root, "bench.bin"), size)
	f := cat.add(b, root, "bench.bin")
	p := newPeer(b, "127.0.0.40", cat, ServerConfig{}, nil)
	raw := newRawServer(b, "127.0.0.41", filepath.Join(root, "bench.bin"))
	d := newTestDownloader(b, newState(), func(c *Config) {
		c.QUICConfig, c.ChunkTimeout = nil, 0
		if v, err := strconv.Atoi(os.Getenv("SERVENT_BENCH_PERSOURCE")); err == nil {
			c.PerSource = v
		}
		if os.Getenv("SERVENT_BENCH_DEBUG") != "" {
			c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	})
	var dlTime, rawTime, dlCPU, rawCPU time.Duration
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		out := b.TempDir()
		if dir := os.Getenv("SERVENT_BENCH_OUT"); dir != "" {
			out = dir
		}
		start, cpu := time.Now(), cpuTime()
		res, err := d.Get(context.Background(), Request{Hash: f.Hash, Size: size, Name: "bench.bin", OutDir: out, Sources: []Source{p.source("server")}})
		if err != nil {
			b.Fatal(err)
		}
		dlTime, dlCPU = dlTime+time.Since(start), dlCPU+cpuTime()-cpu
		b.StopTimer()
		os.Remove(res.Path)
		b.StartTimer()

		start, cpu = time.Now(), cpuTime()
		if n := raw.fetch(b); n != size {
			b.Fatalf("raw stream moved %d bytes, want %d", n, size)
		}
		rawTime, rawCPU = rawTime+time.Since(start), rawCPU+cpuTime()-cpu
	}
	mbps := func(t time.Duration) float64 { return float64(size) * float64(b.N) / t.Seconds() / 1e6 }
	b.ReportMetric(mbps(dlTime), "download_MB/s")
	b.ReportMetric(mbps(rawTime), "rawquic_MB/s")
	b.ReportMetric(mbps(dlTime)/mbps(rawTime), "ratio")
	b.ReportMetric(float64(peakRSS())/1e6, "peakRSS_MB")
	gb := float64(size) * float64(b.N) / 1e9
	b.ReportMetric(dlCPU.Seconds()/gb, "download_cpu_s/GB")
	b.ReportMetric(rawCPU.Seconds()/gb, "rawquic_cpu_s/GB")
}

// rawServer sends a file over one QUIC stream to whoever opens one.
type rawServer struct {
	addr   net.Addr
	dialTr *quic.Transport
}

const rawALPN = "servent-bench-raw"

func newRawServer(b *testing.B, ip, path string) *rawServer {
	b.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		b.Fatal(err)
	}
	cert, _ := selfSigned(b)
	tr := &quic.Transport{Conn: udp}
	ln, err := tr.Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{rawALPN}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	cudp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.1")})
	if err != nil {
		b.Fatal(err)
	}
	s := &rawServer{addr: udp.LocalAddr(), dialTr: &quic.Transport{Conn: cudp}}
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
	b.Cleanup(func() {
		ln.Close()
		tr.Close()
		udp.Close()
		s.dialTr.Close()
		cudp.Close()
		<-done
	})
	return s
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

// fetch reads the whole file over one new connection and stream.
func (s *rawServer) fetch(b *testing.B) int64 {
	conn, err := s.dialTr.Dial(context.Background(), s.addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{rawALPN}}, &quic.Config{
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
