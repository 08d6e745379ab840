package transfer

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/servent-p2p/servent/content"
)

// Upload limits; see ServerConfig.
const (
	DefaultMaxUploads  = 8
	DefaultQueueLength = 64
	DefaultWriteStall  = 20 * time.Second
	// MaxRequestsPerPeer caps one served peer's requests in flight.
	MaxRequestsPerPeer = 8
	// slotIdle: a served peer with no request in flight for this long
	// gives its slot up (closing its connection gives it up at once).
	slotIdle = 2 * time.Second
)

// ALPN is the TLS application protocol the transfer plane is served on.
const ALPN = http3.NextProtoH3

// ServerConfig configures a Server. Only Catalog is required.
type ServerConfig struct {
	// Catalog resolves content hashes to files. Required.
	Catalog Catalog
	// MaxUploads caps how many peers are served at once (an upload slot
	// per peer, each with at most MaxRequestsPerPeer requests in flight);
	// the others wait in the upload queue. 0 means DefaultMaxUploads.
	MaxUploads int
	// QueueLength caps how many peers wait for a slot; beyond it requests
	// get a plain 503 "busy". 0 means DefaultQueueLength.
	QueueLength int
	// RetryAfter is the Retry-After sent with a busy answer and the
	// queue's pollMin; 0 means 1 s. A queued peer must poll again within
	// 10 RetryAfter (pollMax) or lose its place.
	RetryAfter time.Duration
	// WriteStall is the progress deadline of an upload: a peer that reads
	// nothing for this long loses its request and its slot. 0 means
	// DefaultWriteStall.
	WriteStall time.Duration
	// OnStale is called (synchronously, so it must not block) when a
	// catalog entry no longer matches the file on disk, so the owner can
	// re-hash it. May be nil.
	OnStale func(File)
	// Allow, if set, is asked before every request; false answers 403.
	// The overlay pins keys at the TLS level; this is an extra hook.
	Allow func(r *http.Request) bool
	// Swarm, if set, makes the server serve the verified chunks of the
	// downloads in progress of the Downloader that shares it, and keep
	// and hand out the download mesh (X-Alt). Nil: swarming is off.
	Swarm *Swarm
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Server serves shared files over HTTP/3 by content hash only. It is an
// http.Handler and is safe for concurrent use.
type Server struct {
	cfg   ServerConfig
	log   *slog.Logger
	h3    *http3.Server
	stats stats

	mu    sync.Mutex // guards queue, conns and their peerConns
	queue *uploadQueue
	conns map[string]map[*peerConn]struct{} // open connections by peer

	closeOnce sync.Once
}

var _ http.Handler = (*Server)(nil)

// NewServer returns a Server for cfg. It does not listen: hand it QUIC
// connections with ServeQUICConn or a listener with ServeListener.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Catalog == nil {
		return nil, errors.New("transfer: server needs a catalog")
	}
	if cfg.MaxUploads <= 0 {
		cfg.MaxUploads = DefaultMaxUploads
	}
	if cfg.QueueLength <= 0 {
		cfg.QueueLength = DefaultQueueLength
	}
	if cfg.RetryAfter < time.Second {
		cfg.RetryAfter = time.Second
	}
	if cfg.WriteStall <= 0 {
		cfg.WriteStall = DefaultWriteStall
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("pkg", "transfer")}
	s.queue = newUploadQueue(queueConfig{
		Slots: cfg.MaxUploads, PerPeer: MaxRequestsPerPeer, Limit: cfg.QueueLength,
		PollMin: cfg.RetryAfter, PollMax: 10 * cfg.RetryAfter, Idle: slotIdle,
	}, s.logQueue)
	s.stats.perPeer = make(map[string]int64)
	s.conns = make(map[string]map[*peerConn]struct{})
	s.h3 = &http3.Server{Handler: s, Logger: s.log, ConnContext: s.trackConn}
	return s, nil
}

// logQueue logs what happens in the upload queue. Called with s.mu held.
func (s *Server) logQueue(ev queueEvent, peer string, held time.Duration) {
	serving, waiting := s.queue.counts()
	switch ev {
	case eventQueued:
		s.log.Debug("upload queued", "peer", peer, "position", waiting, "serving", serving)
	case eventSlotStart:
		s.stats.slotStarted(serving)
		s.log.Debug("upload slot start", "peer", peer, "serving", serving, "queued", waiting)
	case eventSlotEnd:
		s.log.Debug("upload slot end", "peer", peer, "held", held, "serving", serving, "queued", waiting)
	}
}

// ServeQUICConn serves HTTP/3 on one accepted QUIC connection whose ALPN
// is "h3". It blocks until the connection ends.
func (s *Server) ServeQUICConn(conn *quic.Conn) error { return s.h3.ServeQUICConn(conn) }

// ServeListener serves every connection ln accepts. It blocks until the
// server is closed (returning http.ErrServerClosed) or ln fails. Closing
// the server does not close ln.
func (s *Server) ServeListener(ln http3.QUICListener) error { return s.h3.ServeListener(ln) }

// Close stops serving and closes every connection, and closes the
// Swarm's finished downloads (Swarm.Close). Safe to call twice.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		err = s.h3.Close()
		s.cfg.Swarm.Close()
	})
	return err
}

// ServeHTTP implements http.Handler. Only GET and HEAD are served.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Allow != nil && !s.cfg.Allow(r) {
		s.refuse(w, r, http.StatusForbidden, "forbidden", "not allowed")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.refuse(w, r, http.StatusMethodNotAllowed, "method not allowed", "method")
		return
	}
	p := r.URL.Path
	switch {
	case p == "/uri-res/N2R":
		s.serveFile(w, r, r.URL.RawQuery)
	case strings.HasPrefix(p, "/f/"):
		s.serveFile(w, r, strings.TrimPrefix(p, "/f/"))
	case strings.HasPrefix(p, "/outboard/"):
		s.serveOutboard(w, r, strings.TrimPrefix(p, "/outboard/"))
	default:
		s.refuse(w, r, http.StatusNotFound, "not found", "unknown route")
	}
}

// refuse answers an error status with a one-line plain-text body and
// counts it.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, body, why string) {
	s.stats.refused.Add(1)
	s.log.Debug("refused", "peer", r.RemoteAddr, "path", r.URL.Path, "code", code, "why", why)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, body)
}

// lookup parses a hash (hex or URN) and finds it in the catalog or,
// failing that, among the downloads in progress (part non-nil).
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, raw string) (f File, ob []byte, part *activeDownload, ok bool) {
	h, err := content.ParseHash(raw)
	if err != nil {
		s.refuse(w, r, http.StatusNotFound, "not found", "bad hash")
		return File{}, nil, nil, false
	}
	f, ob, err = s.cfg.Catalog.Lookup(h)
	if err == nil {
		return f, ob, nil, true
	}
	if part = s.cfg.Swarm.partial(h); part != nil {
		return File{Hash: h, Size: part.dl.Size}, part.dl.Outboard, part, true
	}
	s.refuse(w, r, http.StatusNotFound, "not found", err.Error())
	return File{}, nil, nil, false
}

func (s *Server) serveOutboard(w http.ResponseWriter, r *http.Request, raw string) {
	f, ob, _, ok := s.lookup(w, r, raw)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"ob-`+f.Hash.String()+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(ob))
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, raw string) {
	f, _, part, ok := s.lookup(w, r, raw)
	if !ok {
		return
	}
	pc := connOf(r)
	defer s.beginRequest(pc)()
	// Swarming answers "not yet" before the upload queue: only bytes
	// that are sent take an upload slot.
	member := s.exchangeAlts(w, r, f.Hash)
	var off, n int64
	if part != nil {
		if off, n, ok = s.partialRange(w, r, f, part); !ok {
			return
		}
	}
	var cw *countingWriter
	seeded := func(*countingWriter) {}
	if part == nil && member != (Key{}) {
		if ok, seeded = s.seed(w, r, f, member); !ok {
			return
		}
	}
	defer func() { seeded(cw) }()
	if member != (Key{}) {
		if !s.cfg.Swarm.startUpload(member) {
			s.supersede(pc)
			s.notYet(w, r, f.Size) // every swarm upload slot is taken: soon
			return
		}
		defer s.cfg.Swarm.endUpload(member)
	}
	peer := requestPeer(r)
	if !s.admit(w, r, peer) {
		s.supersede(pc)
		return
	}
	defer func() {
		s.mu.Lock()
		s.queue.finish(time.Now(), peer)
		s.mu.Unlock()
	}()
	s.stats.active.Add(1)
	defer s.stats.active.Add(-1)
	if part != nil {
		s.servePartial(w, r, part, off, n, peer)
		return
	}
	cw = s.serveWhole(w, r, f, peer)
}

// serveWhole sends peer the shared file f (the range r asks for, or all
// of it) and returns the writer that counted the bytes, or nil when the
// file cannot be opened (changed since it was hashed, or gone).
func (s *Server) serveWhole(w http.ResponseWriter, r *http.Request, f File, peer string) *countingWriter {
	file, err := openShared(f)
	switch {
	case errors.Is(err, errChanged):
		s.stale(f, err)
		s.refuse(w, r, http.StatusConflict, "changed on disk, rehashing", err.Error())
		return nil
	case errors.Is(err, errGone):
		s.stale(f, err)
		s.refuse(w, r, http.StatusNotFound, "not found", err.Error())
		return nil
	case err != nil:
		s.refuse(w, r, http.StatusNotFound, "not found", err.Error())
		return nil
	}
	defer file.Close()

	name := filepath.Base(f.Path)
	w.Header().Set("ETag", `"`+f.Hash.String()+`"`)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("X-Content-URN", f.Hash.URN())
	cw := s.countingWriter(w)
	s.stats.uploads.Add(1)
	http.ServeContent(cw, r, name, time.Unix(0, f.ModTime), file)
	s.sent(r, cw, peer)
	return cw
}

// countingWriter wraps w to count the body and give every write the
// progress deadline.
func (s *Server) countingWriter(w http.ResponseWriter) *countingWriter {
	return &countingWriter{ResponseWriter: w, rc: http.NewResponseController(w), stall: s.cfg.WriteStall}
}

// sent counts what cw wrote to r's peer and takes the upload slot back
// from a peer that stopped reading.
func (s *Server) sent(r *http.Request, cw *countingWriter, peer string) {
	s.stats.sent(r.RemoteAddr, cw.n)
	if errors.Is(cw.err, os.ErrDeadlineExceeded) {
		s.log.Info("peer stopped reading; upload slot taken back", "peer", peer, "stall", s.cfg.WriteStall)
		s.mu.Lock()
		s.queue.revoke(time.Now(), peer)
		s.mu.Unlock()
	}
}

// admit asks the upload queue about a file request and, unless it is
// served now, answers it: 503 with the queue place (X-Queue) or plain
// busy. It reports whether to serve.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, peer string) bool {
	s.mu.Lock()
	v := s.queue.admit(time.Now(), peer, r.Header.Get(HeaderQueue) != "")
	s.mu.Unlock()
	if v.serve {
		return true
	}
	s.stats.busy.Add(1)
	w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter/time.Second)))
	if v.queued {
		w.Header().Set(HeaderQueue, v.q.String())
		s.refuse(w, r, http.StatusServiceUnavailable, fmt.Sprintf("queued at position %d of %d", v.q.Position, v.q.Length), "queued")
		return false
	}
	s.refuse(w, r, http.StatusServiceUnavailable, fmt.Sprintf("busy: %d peers served and the queue is full, retry later", s.cfg.MaxUploads), "busy")
	return false
}

// stale reports a catalog entry that no longer matches the disk.
func (s *Server) stale(f File, err error) {
	s.log.Info("shared file changed on disk", "path", f.Path, "hash", f.Hash, "err", err)
	if s.cfg.OnStale != nil {
		s.cfg.OnStale(f)
	}
}

// countingWriter counts the body bytes written through it and gives
// every write a progress deadline: stall from its start.
type countingWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
	n     int64
	err   error // the first write error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.rc.SetWriteDeadline(time.Now().Add(c.stall)) // not every writer supports it: then no deadline
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}
