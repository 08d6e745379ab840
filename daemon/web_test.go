package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/overlay"
)

// sniffer is a TCP relay that records every byte both ways, as a host on
// shared Wi-Fi sees a phone's plain HTTP.
type sniffer struct {
	ln    net.Listener
	mu    sync.Mutex
	rx    bytes.Buffer
	conns []net.Conn
	wg    sync.WaitGroup
}

func newSniffer(t *testing.T, ip, to string) *sniffer {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sniffer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			s.mu.Lock()
			s.conns = append(s.conns, c, up)
			s.mu.Unlock()
			s.wg.Add(2)
			go s.relay(up, c)
			go s.relay(c, up)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close() // keep-alive connections would idle for a minute
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// relay copies src to dst through the recording, then closes both.
func (s *sniffer) relay(dst, src net.Conn) {
	defer s.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			s.mu.Lock()
			s.rx.Write(buf[:n])
			s.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

func (s *sniffer) seen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rx.String()
}

// webClient is a browser: cookies, no redirects followed.
func webClient(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func webGet(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// webLogin types pass into the page's login form; it returns the status.
func webLogin(t *testing.T, c *http.Client, base, pass string) int {
	t.Helper()
	_, page := webGet(t, c, base+"login")
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the login page:\n%s", page)
	}
	form := url.Values{"csrf": {m[1]}, "passphrase": {pass}}
	req, _ := http.NewRequest(http.MethodPost, base+"login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", strings.TrimSuffix(base, "/"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestWebLoginSniffed: on a keyed network, everything a phone's session
// with the page sends and receives in clear HTTP (the QR code's login
// link, a typed login, a search, a download) is recorded; the drill key
// appears nowhere in it, the sniffed page passphrase does not join the
// network, and the page refuses the drill key as its passphrase.
func TestWebLoginSniffed(t *testing.T) {
	const drillKey = "correct horse battery staple"
	o := clusterOptions{routing: "smart", leavesPerUltrapeer: 2, meshDegree: 4, ttl: 4}
	nodes := startNodes(t, 2, o, func(i int, cfg *configs.Config) {
		cfg.Key = drillKey
		if i == 0 {
			cfg.WebListen = "127.0.10.1:0"
		}
	})
	waitUp(t, nodes, 20*time.Second)
	d := nodes[0]
	if d.web == nil {
		t.Fatal("web page not started")
	}
	passFile := filepath.Join(d.cfg.Data, webPassphraseFile)
	if st, err := os.Stat(passFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("page passphrase file: %v %v", st, err)
	}
	webAddr := d.web.Addr().String()
	sniff := newSniffer(t, "127.0.10.1", webAddr)
	base := "http://" + sniff.ln.Addr().String() + "/"
	link := strings.Replace(d.web.LoginURL(), webAddr, sniff.ln.Addr().String(), 1)
	if !strings.Contains(link, "/login?pass=") {
		t.Fatalf("login link %q carries no passphrase", link)
	}

	// The phone scans the QR code, searches and downloads; a second phone
	// types the passphrase.
	phone := webClient(t)
	if resp, body := webGet(t, phone, link); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login link: status %d Location %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	var href string
	eventually(t, 20*time.Second, "a page search to find doc001", func() bool {
		resp, page := webGet(t, phone, base+"?q=doc001")
		m := regexp.MustCompile(`href="(/dl/[^"]+)"`).FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || m == nil {
			return false
		}
		href = strings.ReplaceAll(m[1], "&amp;", "&")
		return true
	})
	if resp, body := webGet(t, phone, base+strings.TrimPrefix(href, "/")); resp.StatusCode != http.StatusOK || body != "contents of doc001\n" {
		t.Fatalf("download through the page: status %d body %q", resp.StatusCode, body)
	}
	pass, err := os.ReadFile(passFile)
	if err != nil {
		t.Fatal(err)
	}
	if code := webLogin(t, webClient(t), base, strings.ToUpper(string(pass))); code != http.StatusSeeOther {
		t.Fatalf("typed page passphrase (in capitals): status %d", code)
	}

	seen := sniff.seen()
	t.Logf("sniffed %d bytes of HTTP", len(seen))
	for _, form := range []string{drillKey, url.QueryEscape(drillKey), strings.ReplaceAll(drillKey, " ", "-"), "correct"} {
		if strings.Contains(seen, form) {
			t.Errorf("the sniffed HTTP holds the drill key (as %q)", form)
		}
	}
	if !strings.Contains(seen, strings.ReplaceAll(strings.TrimSpace(string(pass)), " ", "-")) {
		t.Error("the page passphrase is not in the sniffed login link: is the recording complete?")
	}

	// What was sniffed does not join the network: the page passphrase as
	// a drill key is a wrong key.
	cfg := testConfig(t, 10, o, "")
	cfg.Key = strings.TrimSpace(string(pass))
	out, err := New(cfg, quiet(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	if _, err := out.ov.Join([]string{d.ov.LocalAddr().String()}, overlay.ViaSeed); !errors.Is(err, overlay.ErrDrillKey) {
		t.Errorf("joining with the sniffed page passphrase: %v, want ErrDrillKey", err)
	}

	// The drill key does not open the page, typed or in a link.
	direct := "http://" + webAddr + "/"
	intruder := webClient(t)
	if code := webLogin(t, intruder, direct, drillKey); code != http.StatusForbidden {
		t.Errorf("drill key typed into the page: status %d, want 403", code)
	}
	if resp, _ := webGet(t, intruder, direct+"login?pass="+url.QueryEscape(drillKey)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("drill key in a login link: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := webGet(t, intruder, direct+"?q=doc001"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("search after the drill key was refused: status %d, want a redirect to the login", resp.StatusCode)
	}
}

// TestWebPassphraseFile: the page passphrase is made once and kept
// (0600), none on an open network, and a file holding the drill key stops
// the start.
func TestWebPassphraseFile(t *testing.T) {
	cfg := configs.Config{Data: t.TempDir(), Key: "correct horse battery staple"}
	d := &Daemon{cfg: cfg}
	first, err := d.webPassphrase()
	if err != nil || len(strings.Fields(first)) != 5 {
		t.Fatalf("first start: %q, %v", first, err)
	}
	if again, err := d.webPassphrase(); err != nil || again != first {
		t.Fatalf("second start: %q, %v; want %q", again, err, first)
	}
	if open, err := (&Daemon{cfg: configs.Config{Data: t.TempDir()}}).webPassphrase(); err != nil || open != "" {
		t.Fatalf("open network: %q, %v", open, err)
	}
	os.WriteFile(filepath.Join(cfg.Data, webPassphraseFile), []byte(cfg.Key+"\n"), 0o600)
	if _, err := d.webPassphrase(); err == nil || !strings.Contains(err.Error(), "holds the drill key") {
		t.Fatalf("drill key as the page passphrase: %v", err)
	}
}
