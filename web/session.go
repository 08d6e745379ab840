package web

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// sessionStore holds the logged-in sessions: random tokens with an expiry,
// in a bounded map. Safe for concurrent use.
type sessionStore struct {
	max int
	ttl time.Duration

	mu     sync.Mutex
	tokens map[string]time.Time // token → expiry
}

func newSessionStore(max int, ttl time.Duration) *sessionStore {
	return &sessionStore{max: max, ttl: ttl, tokens: make(map[string]time.Time)}
}

// create returns a new session token valid until now+ttl. When the store
// is full, expired sessions go first, then the one closest to expiry.
func (s *sessionStore) create(now time.Time) string {
	token := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tokens) >= s.max {
		var oldest string
		var oldestExp time.Time
		for t, exp := range s.tokens {
			if now.After(exp) {
				delete(s.tokens, t)
				continue
			}
			if oldest == "" || exp.Before(oldestExp) {
				oldest, oldestExp = t, exp
			}
		}
		if len(s.tokens) >= s.max {
			delete(s.tokens, oldest)
		}
	}
	s.tokens[token] = now.Add(s.ttl)
	return token
}

// valid reports whether token is a live session.
func (s *sessionStore) valid(token string, now time.Time) bool {
	if token == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[token]
	if ok && now.After(exp) {
		delete(s.tokens, token)
		return false
	}
	return ok
}

// remove ends a session.
func (s *sessionStore) remove(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
