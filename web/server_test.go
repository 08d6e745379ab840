package web

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// A client that sends its headers slowly is cut after ReadHeaderTimeout.
func TestSlowHeadersCut(t *testing.T) {
	_, base := testServer(t, newTestBackend(t), func(c *Config) { c.ReadHeaderTimeout = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")); err != nil {
		t.Fatal(err)
	}
	// Keep trickling header bytes, as slowloris does, until the server hangs up.
	deadline := time.Now().Add(5 * time.Second)
	var werr error
	for time.Now().Before(deadline) && werr == nil {
		_, werr = conn.Write([]byte("X"))
		conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, rerr := conn.Read(make([]byte, 512))
		if rerr != nil && !errors.Is(rerr, context.DeadlineExceeded) && !isTimeout(rerr) {
			werr = rerr
		}
	}
	if werr == nil {
		t.Fatal("a slow-header connection was still open after 5 s")
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("cut after %v, want about the 300 ms ReadHeaderTimeout", el)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestLifecycle(t *testing.T) {
	s, err := New(Config{Listen: "127.0.0.1:0", Logger: quiet}, newTestBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	if s.URLs() != nil {
		t.Error("URLs before Start")
	}
	addr, err := s.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	if got, want := s.URLs(), []string{"http://" + addr.String() + "/"}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("URLs %q, want %q", got, want)
	}
	var banner bytes.Buffer
	s.PrintBanner(&banner)
	t.Logf("banner:\n%s", banner.String())
	if !strings.Contains(banner.String(), "http://"+addr.String()+"/") || !strings.Contains(banner.String(), "▀") {
		t.Errorf("banner lacks the URL or the QR code:\n%s", banner.String())
	}
	for range 2 {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		t.Error("still listening after Close")
	}

	// Close without Start, and a context that ends the server.
	idle, _ := New(Config{Listen: "127.0.0.1:0", Logger: quiet}, newTestBackend(t))
	if err := idle.Close(); err != nil {
		t.Error(err)
	}
	if _, err := idle.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s2, _ := New(Config{Listen: "127.0.0.1:0", Logger: quiet}, newTestBackend(t))
	addr2, err := s2.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	stopped := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr2.String(), time.Second); err != nil {
			stopped = true
			break
		} else {
			c.Close()
		}
	}
	if !stopped {
		t.Error("still listening after its context ended")
	}
	s2.Close()
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{}, {Listen: "nohost"}, {Listen: "127.0.0.1:0", MaxUpload: -1}} {
		if _, err := New(cfg, newTestBackend(t)); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	if _, err := New(Config{Listen: "127.0.0.1:0", Logger: quiet}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil backend: %v", err)
	}
}

func TestURLsUnspecified(t *testing.T) {
	s, err := New(Config{Listen: "0.0.0.0:0", Logger: quiet}, newTestBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	s.addr = netip.MustParseAddrPort("0.0.0.0:8080") // as after Start, without opening a LAN port
	urls := s.URLs()
	if len(urls) == 0 {
		t.Fatal("no URL")
	}
	t.Logf("URLs when bound to 0.0.0.0: %q", urls)
	lan := lanAddrs()
	for _, u := range urls {
		if !strings.HasSuffix(u, ":8080/") || strings.Contains(u, "0.0.0.0") {
			t.Errorf("bad URL %q", u)
		}
		if len(lan) > 0 && strings.Contains(u, "//127.") {
			t.Errorf("loopback URL %q listed though the host has LAN addresses %v", u, lan)
		}
	}
}

func TestIPLimiter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newIPLimiter(rate.Every(time.Second), 2)
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	steps := []struct {
		ip   netip.Addr
		at   time.Duration
		want bool
	}{
		{a, 0, true}, {a, 0, true}, {a, 0, false}, // burst of 2
		{b, 0, true},                                                            // another client has its own bucket
		{a, 1100 * time.Millisecond, true}, {a, 1100 * time.Millisecond, false}, // one token a second
	}
	for i, st := range steps {
		if got := l.allow(st.ip, now.Add(st.at)); got != st.want {
			t.Errorf("step %d: allow = %v, want %v", i, got, st.want)
		}
	}
	for i := range maxLimitedClients + 10 {
		l.allow(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), now)
	}
	if len(l.clients) > maxLimitedClients {
		t.Errorf("%d clients tracked, bound is %d", len(l.clients), maxLimitedClients)
	}
}
