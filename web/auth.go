package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Cookie and form field names.
const (
	sessionCookie = "servent_session"
	csrfCookie    = "servent_csrf"
	csrfField     = "csrf"
)

// Sentinels for refused state-changing requests.
var (
	errCrossOrigin = errors.New("the request does not come from this page (Origin/Referer of another site)")
	errCSRF        = errors.New("the form has expired: reload the page and try again")
)

// loggedIn reports whether r carries a live session cookie.
func (s *Server) loggedIn(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	return err == nil && s.sessions.valid(c.Value, time.Now())
}

// csrfToken returns the token forms must carry: an HMAC of the browser's
// CSRF cookie (set here when missing) and its session, so a token is bound
// to the session and useless to another browser.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(csrfCookie)
	value := ""
	if err == nil && len(c.Value) >= 32 {
		value = c.Value
	} else {
		value = randomToken()
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		// A request in the same exchange (the login POST) sees it too.
		r.AddCookie(&http.Cookie{Name: csrfCookie, Value: value})
	}
	return s.csrfFor(value, sessionOf(r))
}

func (s *Server) csrfFor(cookie, session string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(cookie))
	m.Write([]byte{0})
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func sessionOf(r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// checkPost refuses a state-changing request that does not come from this
// page: the Origin (or Referer) must name this host and the form token
// must match the browser's CSRF cookie and session.
func (s *Server) checkPost(r *http.Request, token string) error {
	if !sameOrigin(r) {
		return errCrossOrigin
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return errCSRF
	}
	want := s.csrfFor(c.Value, sessionOf(r))
	if subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
		return errCSRF
	}
	return nil
}

// sameOrigin reports whether the Origin header, or failing it the Referer,
// names this very host over http. A request with neither is refused.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	raw := r.Header.Get("Origin")
	if raw == "" {
		raw = r.Header.Get("Referer")
	}
	if raw == "" || raw == "null" {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "http" && strings.EqualFold(u.Host, r.Host)
}

// serveLoginForm shows the passphrase form, or logs in with the
// passphrase of the QR code's login link (loginParam). A link needs no
// CSRF token: it carries the secret itself, and a forged one fails.
func (s *Server) serveLoginForm(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Passphrase == "" || s.loggedIn(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if r.URL.Query().Has(loginParam) {
		s.tryLogin(w, r, r.URL.Query().Get(loginParam))
		return
	}
	s.renderLogin(w, r, http.StatusOK, "")
}

// serveLogin checks the typed passphrase and opens a session.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Passphrase == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, "The form could not be read: reload the page and try again.")
		return
	}
	if err := s.checkPost(r, r.PostForm.Get(csrfField)); err != nil {
		s.loginLimit.allow(clientIP(r), time.Now()) // failures use up the budget
		s.renderLogin(w, r, http.StatusForbidden, capitalise(err.Error())+".")
		return
	}
	s.tryLogin(w, r, r.PostForm.Get("passphrase"))
}

// tryLogin opens a session when given is the page passphrase; a wrong one
// uses up the device's login budget and is answered after loginDelay.
func (s *Server) tryLogin(w http.ResponseWriter, r *http.Request, given string) {
	ip := clientIP(r)
	if s.loginLimit.blocked(ip, time.Now()) {
		w.Header().Set("Retry-After", "10")
		s.renderLogin(w, r, http.StatusTooManyRequests, "Too many attempts from this device: wait ten seconds, then try again.")
		return
	}
	if !s.passphraseOK(given) {
		s.loginLimit.allow(ip, time.Now())
		s.log.Info("wrong passphrase on the web page", "client", ip.String())
		sleepCtx(r.Context(), s.loginDelay)
		s.renderLogin(w, r, http.StatusForbidden, "Wrong passphrase. The page's passphrase is printed by servent run on the node's screen, under its QR code (scanning the code logs in). It is not the drill key.")
		return
	}
	token := s.sessions.create(time.Now())
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/",
		MaxAge: int(sessionTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// serveLogout ends the session.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if err := s.checkPost(r, r.PostForm.Get(csrfField)); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	s.sessions.remove(sessionOf(r))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// sleepCtx pauses for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
