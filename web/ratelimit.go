package web

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	maxLimitedClients = 4096
	limiterIdle       = 10 * time.Minute
)

// ipLimiter is a token bucket per client IP, in a bounded map. Safe for
// concurrent use.
type ipLimiter struct {
	every rate.Limit
	burst int

	mu      sync.Mutex
	clients map[netip.Addr]*clientLimit
}

type clientLimit struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(every rate.Limit, burst int) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, clients: make(map[netip.Addr]*clientLimit)}
}

// allow reports whether the client may make one more request now, and
// takes a token if so.
func (l *ipLimiter) allow(ip netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.client(ip, now).lim.AllowN(now, 1)
}

// blocked reports whether the client has no token left, taking none (for
// limits charged only on failure).
func (l *ipLimiter) blocked(ip netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.client(ip, now).lim.TokensAt(now) < 1
}

// client returns ip's bucket, creating it; l.mu is held.
func (l *ipLimiter) client(ip netip.Addr, now time.Time) *clientLimit {
	c := l.clients[ip]
	if c == nil {
		if len(l.clients) >= maxLimitedClients {
			l.evict(now)
		}
		c = &clientLimit{lim: rate.NewLimiter(l.every, l.burst)}
		l.clients[ip] = c
	}
	c.seen = now
	return c
}

// evict drops idle clients, or every client if none is idle (the map
// stays bounded; a flood of addresses only resets the buckets).
func (l *ipLimiter) evict(now time.Time) {
	for ip, c := range l.clients {
		if now.Sub(c.seen) > limiterIdle {
			delete(l.clients, ip)
		}
	}
	if len(l.clients) >= maxLimitedClients {
		clear(l.clients)
	}
}

// clientIP is the peer address of the connection (no proxy headers are
// trusted: the page is served directly on the LAN).
func clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
