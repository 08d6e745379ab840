package web

import (
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/servent-p2p/servent/kit"
)

// TestKitLink checks that the page offers the binary for the visitor's
// computer, with its SHA-256, that the link downloads exactly those bytes,
// and that phones get no such section.
func TestKitLink(t *testing.T) {
	b := newTestBackend(t)
	winBytes, macBytes := []byte("windows servent"), []byte("mac servent")
	bin := func(tg kit.Target, body []byte) kit.Binary {
		sum := sha256.Sum256(body)
		return kit.Binary{Target: tg, Name: tg.FileName(), Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), BLAKE3: b.addFile(tg.FileName(), body, 1)}
	}
	win, mac := bin(kit.Target{GOOS: "windows", GOARCH: "amd64"}, winBytes), bin(kit.Target{GOOS: "darwin", GOARCH: "arm64"}, macBytes)
	_, base := testServer(t, b, func(c *Config) { c.Kit = []kit.Binary{win, mac} })
	c := newClient(t)

	_, page := get(t, c, base+"/", "User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0")
	if !strings.Contains(page, "servent for this computer") || !strings.Contains(page, win.SHA256) || strings.Contains(page, mac.SHA256) {
		t.Fatalf("a Windows browser's page does not offer exactly the Windows binary with its SHA-256:\n%s", page)
	}
	href := html.UnescapeString(between(page, `href="/dl/`, `"`))
	resp, body := get(t, c, base+"/dl/"+href)
	if resp.StatusCode != http.StatusOK || body != string(winBytes) {
		t.Fatalf("kit link /dl/%s: %d %q", href, resp.StatusCode, body)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, win.Name) {
		t.Errorf("Content-Disposition %q does not name %s", cd, win.Name)
	}

	_, page = get(t, c, base+"/", "User-Agent", "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120.0 Mobile")
	if strings.Contains(page, "servent for this computer") {
		t.Error("a phone is offered a servent binary")
	}
	_, page = get(t, c, base+"/", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0")
	if strings.Contains(page, "servent for this computer") {
		t.Error("a Linux browser is offered a binary the kit does not have")
	}
}

// between returns the text of s after the first start, up to end.
func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}
