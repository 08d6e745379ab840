package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Server is the phone page's HTTP server. Build it with New, then Start;
// Close stops it. Its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	backend Backend
	log     *slog.Logger
	tmpl    *template.Template
	secret  []byte // keys the CSRF tokens

	sessions    *sessionStore
	searchLimit *ipLimiter
	loginLimit  *ipLimiter
	searchSlots chan struct{}
	fetchSlots  chan struct{}
	zipSlots    chan struct{} // folder .zips being streamed
	recent      *recentResults
	flights     flights

	drop       *os.Root     // nil: uploads off
	quota      *uploadQuota // bytes in drop; nil: uploads off
	createFile func(root *os.Root, name string) (uploadFile, error)
	loginDelay time.Duration // pause before a wrong-passphrase answer

	// base is cancelled by Close: it parents request contexts and fetches.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the serve loop, its watcher and the fetches

	mu      sync.Mutex
	started bool
	srv     *http.Server
	addr    netip.AddrPort

	closeOnce sync.Once
	closeErr  error
}

// New validates cfg and builds a server; it opens (creating it if needed)
// the drop folder when uploads are on. It does not listen yet.
func New(cfg Config, backend Backend) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if backend == nil {
		return nil, fmt.Errorf("%w: nil backend", ErrConfig)
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:         cfg,
		backend:     backend,
		log:         cfg.Logger.With("component", "web"),
		tmpl:        tmpl,
		secret:      make([]byte, 32),
		sessions:    newSessionStore(maxSessions, sessionTTL),
		searchLimit: newIPLimiter(rate.Every(time.Second), 6),
		loginLimit:  newIPLimiter(rate.Every(3*time.Second), 10),
		searchSlots: make(chan struct{}, maxConcurrent),
		fetchSlots:  make(chan struct{}, maxConcurrent),
		zipSlots:    make(chan struct{}, maxZips),
		recent:      newRecentResults(1024),
		createFile:  createUploadFile,
		loginDelay:  time.Second,
	}
	rand.Read(s.secret)
	s.base, s.cancel = context.WithCancel(context.Background())
	if cfg.DropDir != "" {
		if err := os.MkdirAll(cfg.DropDir, 0o755); err != nil {
			return nil, fmt.Errorf("web: drop folder: %w", err)
		}
		if s.drop, err = os.OpenRoot(cfg.DropDir); err != nil {
			return nil, fmt.Errorf("web: drop folder: %w", err)
		}
		if s.quota, err = newUploadQuota(s.drop, cfg.UploadQuota); err != nil {
			return nil, errors.Join(err, s.drop.Close())
		}
	}
	return s, nil
}

// Lifecycle errors.
var (
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("web: already started")
	// ErrClosed is returned by Start after Close.
	ErrClosed = errors.New("web: closed")
)

// Start listens on Config.Listen and serves in the background until ctx
// ends or Close is called. It returns the bound address (useful with port
// 0). It does not block.
func (s *Server) Start(ctx context.Context) (netip.AddrPort, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return netip.AddrPort{}, ErrStarted
	}
	if s.base.Err() != nil {
		return netip.AddrPort{}, ErrClosed
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("web: listen: %w", err)
	}
	s.started = true
	s.addr = ln.Addr().(*net.TCPAddr).AddrPort()
	base := s.base
	s.srv = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("web server stopped", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
			s.shutdown()
		case <-base.Done():
		}
	}()
	s.log.Info("web page listening", "addr", s.addr.String(), "uploads", s.drop != nil, "open", s.cfg.Passphrase == "")
	return s.addr, nil
}

// Addr returns the bound address (zero before Start).
func (s *Server) Addr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// shutdown stops accepting, gives in-flight requests a moment, then cuts
// the rest (long downloads) and cancels every request context.
func (s *Server) shutdown() {
	s.cancel() // ends searches and fetches in flight
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, stop := context.WithTimeout(context.Background(), 2*time.Second)
	defer stop()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close()
	}
}

// Close stops the server and waits for its goroutines. It is idempotent
// and safe to call without Start.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.shutdown()
		s.wg.Wait()
		if s.drop != nil {
			s.closeErr = s.drop.Close()
		}
	})
	return s.closeErr
}

// handler builds the route table wrapped in the guards every request
// passes: security headers, Host check, then the passphrase gate.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /login", s.serveLoginForm)
	mux.HandleFunc("POST /login", s.serveLogin)
	mux.HandleFunc("POST /logout", s.serveLogout)
	mux.HandleFunc("GET /dl/{hash}", s.serveDownload)
	mux.HandleFunc("GET /browse", s.serveBrowse)
	mux.HandleFunc("GET /zip", s.serveZip)
	if s.drop != nil {
		mux.HandleFunc("POST /upload", s.serveUpload)
	}
	return s.guard(mux)
}

// guard applies the checks common to every route.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if !allowedHost(r.Host) {
			http.Error(w, "unknown host name: open the page by the IP address servent printed", http.StatusMisdirectedRequest)
			return
		}
		if s.cfg.Passphrase != "" && r.URL.Path != "/login" && !s.loggedIn(r) {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowedHost accepts IP literals, localhost and this machine's host name
// (with or without .local): a DNS-rebinding page on another name is refused.
func allowedHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	name, err := os.Hostname()
	return err == nil && name != "" && (strings.EqualFold(host, name) || strings.EqualFold(host, name+".local"))
}
