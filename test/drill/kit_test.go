//go:build linux

package drill

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
)

// kitLink finds the page's "servent for this computer" download link and
// the SHA-256 shown beside it.
var kitLink = regexp.MustCompile(`(?s)servent for this computer.*?SHA-256 <code class="sum">([0-9a-f]{64})</code>.*?href="(/dl/[^"]+)"`)

// TestKitFromPhonePage is a laptop without servent in the room: host 1
// fetches the binary for its platform with curl from the phone page of
// host 0, checks its SHA-256 against the page, runs it, and joins the
// network. It takes about 15 s.
func TestKitFromPhonePage(t *testing.T) {
	lan := newLAN(t, LANConfig{Hosts: 2, Binary: serventBinary(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	giver, newcomer := lan.Hosts[0], lan.Hosts[1]
	page := "http://" + netip.AddrPortFrom(giver.Addr.Addr(), 8080).String()
	if err := giver.Start(ctx, StartOptions{Env: []string{"SERVENT_WEB_LISTEN=" + giver.Addr.Addr().String() + ":8080"}}); err != nil {
		t.Fatal(err)
	}

	// The newcomer's browser: a Linux PC (the giver offers its own binary,
	// built for this machine).
	curl := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", newcomer.NS, "curl", "-sS", "--fail", "--max-time", "60",
			"-A", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("curl %v: %w: %s", args, err, stderr.String())
		}
		return out, nil
	}
	var m []string
	err := Eventually(ctx, 30*time.Second, 250*time.Millisecond, func() error {
		body, err := curl(page + "/")
		if err != nil {
			return err
		}
		if m = kitLink.FindStringSubmatch(string(body)); m == nil {
			return fmt.Errorf("no \"servent for this computer\" link on the page yet")
		}
		return nil
	})
	if err != nil {
		if _, lerr := exec.LookPath("curl"); lerr != nil {
			t.Skipf("needs curl: %v", lerr)
		}
		t.Fatal(err)
	}
	shown, href := m[1], html.UnescapeString(m[2])

	if err := os.MkdirAll(newcomer.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(newcomer.Dir, "servent-downloaded")
	if _, err := curl("-o", bin, page+href); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != shown {
		t.Fatalf("downloaded binary has SHA-256 %x, the page shows %s", sum, shown)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("fetched %s from %s (%d bytes, SHA-256 %s as shown)", href, page, len(b), shown)

	// Run it as a person would: no seed, LAN discovery finds the giver.
	data := filepath.Join(newcomer.Dir, "newcomer-data")
	cmd := exec.Command("ip", "netns", "exec", newcomer.NS, bin, "run", "--data", data, "--name", newcomer.Name, "--listen", newcomer.Listen())
	logf, err := os.Create(filepath.Join(newcomer.Dir, "newcomer.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	err = Eventually(ctx, 60*time.Second, 250*time.Millisecond, func() error {
		out, err := exec.CommandContext(ctx, bin, "status", "--data", data, "--json").Output()
		if err != nil {
			return fmt.Errorf("status: %w", err)
		}
		var st api.Status
		if err := json.Unmarshal(out, &st); err != nil {
			return err
		}
		if st.Members != 2 {
			return fmt.Errorf("the downloaded servent sees %d members, want 2", st.Members)
		}
		gs, err := giver.Status(ctx)
		if err != nil {
			return err
		}
		if gs.Members != 2 {
			return fmt.Errorf("the giver sees %d members, want 2", gs.Members)
		}
		return nil
	})
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(newcomer.Dir, "newcomer.log"))
		t.Fatalf("%v\nnewcomer log:\n%s", err, log)
	}
}
