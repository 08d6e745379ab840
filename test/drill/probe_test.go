//go:build linux

package drill

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The probe is this test binary re-executed inside a host namespace with
// DRILL_PROBE set: "listen" prints every datagram it receives on
// probePort (unicast, broadcast, and the beacon multicast group joined on
// eth0) as "TAG FROM"; "send" sends one datagram.
const (
	probePort  = 6347
	probeGroup = "239.192.63.46"
)

// probeMain runs the probe named by mode and returns the exit status.
func probeMain(mode string) int {
	var err error
	switch mode {
	case "listen":
		err = probeListen()
	case "send":
		err = probeSend(os.Getenv("DRILL_PROBE_DST"), os.Getenv("DRILL_PROBE_TAG"), os.Getenv("DRILL_PROBE_IF") != "")
	default:
		err = fmt.Errorf("unknown probe %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 1
	}
	return 0
}

func probeListen() error {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", probePort))
	if err != nil {
		return err
	}
	conn := pc.(*net.UDPConn)
	ifc, err := net.InterfaceByName("eth0")
	if err != nil {
		return err
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	group := netip.MustParseAddr(probeGroup).As4()
	var jerr error
	raw.Control(func(fd uintptr) {
		jerr = syscall.SetsockoptIPMreqn(int(fd), syscall.IPPROTO_IP, syscall.IP_ADD_MEMBERSHIP,
			&syscall.IPMreqn{Multiaddr: group, Ifindex: int32(ifc.Index)})
	})
	if jerr != nil {
		return fmt.Errorf("join %s on eth0: %w", probeGroup, jerr)
	}
	fmt.Println("ready")
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return nil
		}
		fmt.Printf("%s %s\n", buf[:n], from.Addr())
	}
}

func probeSend(dst, tag string, setIf bool) error {
	ap, err := netip.ParseAddrPort(dst)
	if err != nil {
		return err
	}
	conn, err := net.ListenUDP("udp4", nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)
		if serr == nil && setIf {
			ifc, err := net.InterfaceByName("eth0")
			if err != nil {
				serr = err
				return
			}
			serr = syscall.SetsockoptIPMreqn(int(fd), syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF,
				&syscall.IPMreqn{Ifindex: int32(ifc.Index)})
		}
	})
	if serr != nil {
		return serr
	}
	for range 3 {
		if _, err := conn.WriteToUDPAddrPort([]byte(tag), ap); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// prober runs a listening probe in every host of a LAN and records which
// host received which tag.
type prober struct {
	t   *testing.T
	lan *LAN
	exe string

	mu   sync.Mutex
	seen map[string]map[int]bool // tag -> host index -> received
}

func newProber(t *testing.T, lan *LAN) *prober {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &prober{t: t, lan: lan, exe: exe, seen: map[string]map[int]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, h := range lan.Hosts {
		cmd := exec.CommandContext(ctx, "ip", "netns", "exec", h.NS, exe)
		cmd.Env = append(os.Environ(), "DRILL_PROBE=listen")
		cmd.WaitDelay = time.Second
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) == 1 && f[0] == "ready" {
					close(ready)
					continue
				}
				if len(f) == 2 {
					p.mu.Lock()
					if p.seen[f[0]] == nil {
						p.seen[f[0]] = map[int]bool{}
					}
					p.seen[f[0]][h.Index] = true
					p.mu.Unlock()
				}
			}
			cmd.Wait()
		}()
		select {
		case <-ready:
		case <-time.After(10 * time.Second):
			t.Fatalf("probe listener in %s not ready", h.Name)
		}
	}
	return p
}

// send sends tag from host i to dst (IP:PORT); setIf picks eth0 for
// multicast. It returns the sender's error, if any.
func (p *prober) send(i int, dst string, tag string, setIf bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", p.lan.Hosts[i].NS, p.exe)
	cmd.Env = append(os.Environ(), "DRILL_PROBE=send", "DRILL_PROBE_DST="+dst, "DRILL_PROBE_TAG="+tag)
	if setIf {
		cmd.Env = append(cmd.Env, "DRILL_PROBE_IF=1")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// receivers waits up to wait for tag and returns the indexes of the hosts
// other than the sender that got it (a broadcast loops back to its
// sender), once want of them did or the wait ended.
func (p *prober) receivers(tag string, sender, want int, wait time.Duration) []int {
	deadline := time.Now().Add(wait)
	for {
		p.mu.Lock()
		got := len(p.seen[tag])
		if p.seen[tag][sender] {
			got--
		}
		p.mu.Unlock()
		if got >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for i := range p.lan.Hosts {
		if i != sender && p.seen[tag][i] {
			out = append(out, i)
		}
	}
	return out
}
