package overlay

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/servent-p2p/servent/internal/testutil"
)

var nextIP atomic.Uint32

// testIP hands out 127.0.0.x addresses, x from 2 to 254, so tests get
// distinct hosts.
func testIP() string {
	x := nextIP.Add(1)%253 + 2
	return fmt.Sprintf("127.0.0.%d", x)
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig is a node config on a fresh 127.0.0.x, port 0, discovery off.
func testConfig(t *testing.T, name string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Name = name
	cfg.Listen = testIP() + ":0"
	cfg.Discovery = false
	cfg.Logger = quietLogger()
	return cfg
}

// startNode creates and starts a node, closing it at cleanup.
func startNode(t *testing.T, cfg Config, setup ...func(*Node)) *Node {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, f := range setup {
		f(n)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// testPlane is the datagram plane the tests register: any byte but
// memberlist's would do.
const testPlane byte = 0x05

// eventually is the shared testutil.Eventually.
var eventually = testutil.Eventually

func joinTo(t *testing.T, n, to *Node) {
	t.Helper()
	if _, err := n.Join([]string{to.LocalAddr().String()}, ViaSeed); err != nil {
		t.Fatalf("join: %v", err)
	}
}

// freeUDPPort returns a UDP port that was free a moment ago.
func freeUDPPort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Port()
}
