package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPassphraseFlow(t *testing.T) {
	b := newTestBackend(t)
	hash := b.addFile("drill plan.txt", []byte("plan"), 1)
	_, base := testServer(t, b, func(c *Config) { c.Passphrase = "correct horse" })
	c := newClient(t)

	// Before the passphrase: every route but /login sends to /login.
	for _, p := range []string{"/", "/?q=drill", "/dl/" + hash + "?name=x.txt", "/nope"} {
		resp, _ := get(t, c, base+p)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("%s before login: status %d Location %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if b.searches.Load() != 0 || b.fetches.Load() != 0 {
		t.Fatalf("backend used before login: %d searches, %d fetches", b.searches.Load(), b.fetches.Load())
	}

	resp, page := get(t, c, base+"/login")
	if resp.StatusCode != 200 || !strings.Contains(page, "page's passphrase") || !strings.Contains(page, "not the drill key") || strings.Contains(page, "Open network") {
		t.Fatalf("login page: status %d\n%s", resp.StatusCode, page)
	}
	token := csrfFrom(t, page)

	resp, page = postForm(t, c, base+"/login", base, url.Values{"csrf": {token}, "passphrase": {"wrong"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "Wrong passphrase") {
		t.Fatalf("wrong passphrase: status %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := get(t, c, base+"/?q=drill"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a wrong passphrase let the search through: %d", resp.StatusCode)
	}

	resp, _ = postForm(t, c, base+"/login", base, url.Values{"csrf": {token}, "passphrase": {"correct horse"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("right passphrase: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || len(session.Value) < 40 || session.MaxAge <= 0 {
		t.Errorf("session cookie flags: %+v", session)
	}

	resp, page = get(t, c, base+"/?q=drill")
	if resp.StatusCode != 200 || !strings.Contains(page, "drill plan.txt") || !strings.Contains(page, "Drill network") {
		t.Fatalf("search after login: status %d\n%s", resp.StatusCode, page)
	}
	if resp, body := get(t, c, base+"/dl/"+hash+"?name=plan.txt"); resp.StatusCode != 200 || body != "plan" {
		t.Fatalf("download after login: status %d", resp.StatusCode)
	}

	// A forged or stolen-elsewhere cookie value is not a session.
	other := newClient(t)
	u, _ := url.Parse(base)
	other.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: strings.Repeat("A", 43)}})
	if resp, _ := get(t, other, base+"/?q=drill"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("forged session: status %d", resp.StatusCode)
	}

	// Logging out ends the session.
	_, page = get(t, c, base+"/")
	resp, _ = postForm(t, c, base+"/logout", base, url.Values{"csrf": {csrfFrom(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, base+"/?q=drill"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("search after logout: status %d", resp.StatusCode)
	}
}

func TestLoginCSRF(t *testing.T) {
	b := newTestBackend(t)
	_, base := testServer(t, b, func(c *Config) { c.Passphrase = "pw" })

	good := func(t *testing.T) (*http.Client, string) {
		c := newClient(t)
		_, page := get(t, c, base+"/login")
		return c, csrfFrom(t, page)
	}
	tests := []struct {
		name   string
		origin string
		token  func(string) string
		status int
	}{
		{"valid", base, func(tok string) string { return tok }, http.StatusSeeOther},
		{"no token", base, func(string) string { return "" }, http.StatusForbidden},
		{"forged token", base, func(string) string { return strings.Repeat("x", 43) }, http.StatusForbidden},
		{"no origin", "", func(tok string) string { return tok }, http.StatusForbidden},
		{"other origin", "http://evil.example", func(tok string) string { return tok }, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, tok := good(t)
			resp, page := postForm(t, c, base+"/login", tt.origin, url.Values{"csrf": {tt.token(tok)}, "passphrase": {"pw"}})
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tt.status, page)
			}
		})
	}
	t.Run("token of another browser", func(t *testing.T) {
		_, tok := good(t)
		c, _ := good(t)
		if resp, _ := postForm(t, c, base+"/login", base, url.Values{"csrf": {tok}, "passphrase": {"pw"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	_, base := testServer(t, newTestBackend(t), func(c *Config) { c.Passphrase = "pw" })
	c := newClient(t)
	_, page := get(t, c, base+"/login")
	tok := csrfFrom(t, page)
	var last int
	for range 15 {
		resp, _ := postForm(t, c, base+"/login", base, url.Values{"csrf": {tok}, "passphrase": {"guess"}})
		last = resp.StatusCode
		if last == http.StatusTooManyRequests {
			break
		}
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("15 wrong guesses in a row: last status %d, want 429", last)
	}
}

func TestSessionStoreBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := newSessionStore(3, time.Hour)
	first := s.create(now)
	var toks []string
	for i := range 5 {
		toks = append(toks, s.create(now.Add(time.Duration(i+1)*time.Minute)))
	}
	if len(s.tokens) != 3 {
		t.Fatalf("%d sessions, want 3", len(s.tokens))
	}
	if s.valid(first, now) {
		t.Error("the oldest session survived a full store")
	}
	if !s.valid(toks[4], now) {
		t.Error("the newest session is gone")
	}
	if s.valid(toks[4], now.Add(2*time.Hour)) {
		t.Error("an expired session is valid")
	}
}

// TestLoginLink: the QR code's link logs a phone in; a wrong link is
// refused and uses up the device's login budget; typed words are folded
// (capitals, dashes, extra spaces).
func TestLoginLink(t *testing.T) {
	s, base := testServer(t, newTestBackend(t), func(c *Config) { c.Passphrase = "apple river stone tiger bread" })
	link := s.LoginURL()
	if want := base + "/login?pass=apple-river-stone-tiger-bread"; link != want {
		t.Fatalf("LoginURL %q, want %q", link, want)
	}
	c := newClient(t)
	resp, _ := get(t, c, link)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login link: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, c, base+"/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("page after the login link: status %d", resp.StatusCode)
	}

	other := newClient(t)
	resp, page := get(t, other, base+"/login?pass=apple-river-stone-tiger-bred")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "not the drill key") {
		t.Fatalf("wrong link: status %d\n%s", resp.StatusCode, page)
	}
	_, page = get(t, other, base+"/login")
	resp, _ = postForm(t, other, base+"/login", base, url.Values{"csrf": {csrfFrom(t, page)}, "passphrase": {"  Apple RIVER-stone  tiger bread "}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("typed with capitals and dashes: status %d", resp.StatusCode)
	}

	guesser := newClient(t)
	var last int
	for range 15 {
		resp, _ := get(t, guesser, base+"/login?pass=guess")
		if last = resp.StatusCode; last == http.StatusTooManyRequests {
			break
		}
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("15 wrong login links in a row: last status %d, want 429", last)
	}
}

func TestNewPassphrase(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		p, err := NewPassphrase()
		if err != nil {
			t.Fatal(err)
		}
		if len(strings.Fields(p)) != PassphraseWords || normalizePassphrase(p) != p || seen[p] {
			t.Fatalf("passphrase %q: want %d distinct lowercase words", p, PassphraseWords)
		}
		seen[p] = true
	}
}
