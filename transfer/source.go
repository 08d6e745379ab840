package transfer

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/servent-p2p/servent/content"
)

// Errors a source fetch can end with; they decide what happens next.
var (
	// errGoneAtSource: the source answered that it does not (or no
	// longer) serve the file; it is dropped for this download.
	errGoneAtSource = errors.New("source does not serve it")
	// errBusy: the source is at its upload cap; retry later.
	errBusy = errors.New("source busy")
	// errLiar: the source sent data that fails verification.
	errLiar = errors.New("source sent bad data")
	// errNotYet: the source holds only part of the file, not the range
	// asked for; its answer says which ranges it holds.
	errNotYet = errors.New("source does not hold that range yet")
	// errStalled: no live source was known to hold a missing chunk, and
	// none came, for Config.PartialWait.
	errStalled = errors.New("waited in vain for the missing chunks")
)

// answer is what a source's response said about the file besides its
// bytes: its X-Available-Ranges ("" from a holder of the whole file) and
// its X-Alt.
type answer struct {
	ranges, alts string
}

// headerTimeout bounds the wait for a response's header: a source that
// died without closing the connection is noticed this fast, not after the
// whole ChunkTimeout.
const headerTimeout = 10 * time.Second

// redialBackoff is how long a failed dial is not retried: the workers of
// a source share one dial and its failure.
const redialBackoff = time.Second

// poolDialTimeout bounds a dial, which goes on when the download that
// started it gives up: other downloads may be waiting for it.
const poolDialTimeout = 10 * time.Second

// busyError carries a busy source's Retry-After and, when it queued this
// download, its queue place.
type busyError struct {
	after time.Duration
	place *queueInfo
}

func (e busyError) Error() string {
	if e.place != nil {
		return fmt.Sprintf("source busy, queued at position %d of %d", e.place.Position, e.place.Length)
	}
	return fmt.Sprintf("source busy, retry after %s", e.after)
}
func (e busyError) Unwrap() error { return errBusy }

// poll is how long to wait before asking a busy source again: its
// pollMin (or Retry-After) plus up to a quarter more, so that downloaders
// turned away together do not come back together, and never past its
// pollMax.
func (e busyError) poll(jitter float64) time.Duration {
	base, limit := e.after, time.Duration(0)
	if e.place != nil && e.place.PollMin > 0 {
		base = e.place.PollMin
	}
	if e.place != nil && e.place.PollMax > base {
		limit = e.place.PollMax - base
	}
	extra := time.Duration(jitter * float64(base) / 4)
	if limit > 0 {
		extra = min(extra, limit/2)
	}
	return base + extra
}

// source is one peer serving a download, with its connection and tallies.
// dropped, err, have, probeAt, inFlight and pausedUntil are guarded by
// the schedule's mutex.
type source struct {
	Source
	d *Downloader

	mu      sync.Mutex // guards the connection and its dial (held while dialling)
	lease   *lease     // the pooled connection it uses; nil before the first dial
	dialErr error
	dialAt  time.Time
	dials   int
	closed  bool

	placeMu sync.Mutex // guards place; never held while dialling
	place   *queueInfo // this download's place in the source's queue

	bytes    atomic.Int64
	chunks   atomic.Int64
	failures atomic.Int64
	liar     atomic.Bool

	dropped bool
	err     error
	// have is the chunk bitmap of a partial holder (swarming), from its
	// latest X-Available-Ranges; nil: it holds the whole file.
	have []byte
	// probeAt: a partial holder with nothing known to give is asked for
	// a missing chunk again from then on (its answer refreshes have).
	probeAt time.Time
	// inFlight counts its assignments.
	inFlight int
	// pausedUntil: after a "not yet" it is not asked before then.
	pausedUntil time.Time
}

// pinTLS returns the default client TLS config: TLS 1.3, ALPN h3, and the
// peer's public key pinned by the SHA-256 of its SubjectPublicKeyInfo when
// fp is non-zero (self-signed keys: no CA chain is checked).
func pinTLS(fp [32]byte) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		NextProtos:         []string{ALPN},
		ServerName:         "servent",
		InsecureSkipVerify: true, // the key is pinned below; content is verified by hash
		VerifyConnection: func(cs tls.ConnectionState) error {
			if fp == ([32]byte{}) {
				return nil
			}
			if len(cs.PeerCertificates) == 0 {
				return errors.New("peer sent no certificate")
			}
			if KeyFingerprint(cs.PeerCertificates[0]) != fp {
				return errors.New("peer key does not match its pinned fingerprint")
			}
			return nil
		},
	}
}

// KeyFingerprint returns the SHA-256 of a certificate's
// SubjectPublicKeyInfo: the fingerprint Sources are pinned by.
func KeyFingerprint(c *x509.Certificate) [32]byte { return sha256.Sum256(c.RawSubjectPublicKeyInfo) }

// client returns the source's HTTP/3 client connection: the
// Downloader's connection to it (shared with its other downloads from
// the same source), dialled first if there is none, or again when it
// ended (a source whose connection drops is redialled). A failed dial is
// not retried for redialBackoff: callers in that time get its error.
func (s *source) client(ctx context.Context) (*http3.ClientConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("download ended")
	}
	if s.lease != nil && s.lease.live() {
		return s.lease.cc, nil
	}
	if s.dialErr != nil && time.Since(s.dialAt) < redialBackoff {
		return nil, s.dialErr
	}
	if s.lease != nil {
		s.d.log.Info("connection to source lost; redialling", "source", s.Name, "err", context.Cause(s.lease.conn.Context()))
		s.d.conns.release(s.key(), s.lease)
		s.lease = nil
	}
	s.dials++
	s.dialAt = time.Now()
	l, err := s.d.conns.acquire(ctx, s.key(), func(ctx context.Context) (*quic.Conn, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), poolDialTimeout)
		defer cancel()
		return s.d.cfg.Dial(ctx, s.Addr, s.d.cfg.TLSConfig(s.Source), s.d.cfg.QUICConfig.Clone())
	})
	if err != nil {
		s.dialErr = fmt.Errorf("dial %s: %w", s.Addr, err)
		return nil, s.dialErr
	}
	s.lease, s.dialErr = l, nil
	return l.cc, nil
}

// key is the source's connection's key in the Downloader's pool.
func (s *source) key() poolKey { return poolKey{addr: s.Addr, fp: s.Fingerprint} }

// close gives the source's connection back to the pool and stops
// redialling.
func (s *source) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.lease != nil {
		s.d.conns.release(s.key(), s.lease)
		s.lease = nil
	}
}

// redials returns how many times the source was dialled after the first.
func (s *source) redials() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(0, s.dials-1)
}

// setPlace records this download's queue place at the source (nil: not
// queued) and reports whether it changed.
func (s *source) setPlace(q *queueInfo) bool {
	s.placeMu.Lock()
	defer s.placeMu.Unlock()
	changed := (s.place == nil) != (q == nil) || q != nil && (q.Position != s.place.Position || q.Length != s.place.Length)
	s.place = q
	return changed
}

// queuePlace returns the source's queue place, if this download has one.
func (s *source) queuePlace() (queueInfo, bool) {
	s.placeMu.Lock()
	defer s.placeMu.Unlock()
	if s.place == nil {
		return queueInfo{}, false
	}
	return *s.place, true
}

// get issues GET path with an optional byte range and returns the body
// read into buf (which must have exactly the expected length).
func (s *source) get(ctx context.Context, path string, off int64, buf []byte, whole bool) (answer, error) {
	var ans answer
	cc, err := s.client(ctx)
	if err != nil {
		return ans, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+s.Addr.String()+path, nil)
	if err != nil {
		return ans, err
	}
	if !whole {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+int64(len(buf))-1, 10))
	}
	req.Header.Set(HeaderQueue, QueueVersion)
	if sw := s.d.cfg.Swarm; sw != nil {
		req.Header.Set(HeaderAlt, formatAlts([]Key{sw.self}))
	}
	resp, err := roundTrip(ctx, cc, req)
	if err != nil {
		return ans, fmt.Errorf("GET %s from %s: %w", path, s.Name, err)
	}
	defer resp.Body.Close()
	ans = answer{ranges: resp.Header.Get(HeaderAvailableRanges), alts: resp.Header.Get(HeaderAlt)}
	switch {
	case resp.StatusCode == http.StatusPartialContent && !whole,
		resp.StatusCode == http.StatusOK && (whole || off == 0 && resp.ContentLength == int64(len(buf))):
	case resp.StatusCode == http.StatusServiceUnavailable:
		after, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		busy := busyError{after: time.Duration(min(max(after, 1), 30)) * time.Second}
		if q, err := parseQueueInfo(resp.Header.Get(HeaderQueue)); err == nil {
			q.PollMin, q.PollMax = min(q.PollMin, 30*time.Second), min(q.PollMax, 300*time.Second)
			busy.place = &q
		}
		return ans, busy
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && ans.ranges != "":
		return ans, fmt.Errorf("%w: %s holds %s", errNotYet, s.Name, ans.ranges)
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusConflict,
		resp.StatusCode == http.StatusForbidden, resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return ans, fmt.Errorf("%w: %s answered %s", errGoneAtSource, s.Name, resp.Status)
	default:
		return ans, fmt.Errorf("GET %s from %s: unexpected %s", path, s.Name, resp.Status)
	}
	if resp.ContentLength >= 0 && resp.ContentLength != int64(len(buf)) {
		return ans, fmt.Errorf("%w: %s sent %d bytes, want %d", errLiar, s.Name, resp.ContentLength, len(buf))
	}
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		return ans, fmt.Errorf("read %s from %s: %w", path, s.Name, err)
	}
	return ans, nil
}

// outboard fetches and checks the Bao outboard of h. size < 0 means
// unknown (taken from the outboard's 8-byte little-endian header).
func (s *source) outboard(ctx context.Context, h content.Hash, size int64) ([]byte, int64, error) {
	cc, err := s.client(ctx)
	if err != nil {
		return nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+s.Addr.String()+"/outboard/"+h.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := roundTrip(ctx, cc, req)
	if err != nil {
		return nil, 0, fmt.Errorf("outboard from %s: %w", s.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("%w: %s answered %s", errGoneAtSource, s.Name, resp.Status)
	}
	// The largest outboard the 8-byte header can announce for a sane file
	// (64 bytes per MiB) bounds what we read.
	const maxOutboard = 8 + 64<<20
	ob, err := io.ReadAll(io.LimitReader(resp.Body, maxOutboard+1))
	if err != nil {
		return nil, 0, fmt.Errorf("outboard from %s: %w", s.Name, err)
	}
	if len(ob) < 8 || len(ob) > maxOutboard {
		return nil, 0, fmt.Errorf("%w: outboard of %d bytes", errLiar, len(ob))
	}
	obSize := int64(binary.LittleEndian.Uint64(ob))
	if size >= 0 && obSize != size {
		return nil, 0, fmt.Errorf("%w: outboard says %d bytes, want %d", errLiar, obSize, size)
	}
	if !content.VerifyOutboard(h, ob, obSize) {
		return nil, 0, fmt.Errorf("%w: outboard does not match the hash", errLiar)
	}
	return ob, obSize, nil
}

// roundTrip sends req (made with ctx) and waits at most headerTimeout
// for the response header; the body is then bounded by ctx alone.
func roundTrip(ctx context.Context, cc *http3.ClientConn, req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(headerTimeout, func() { cancel(fmt.Errorf("no answer within %s", headerTimeout)) })
	resp, err := cc.RoundTrip(req.WithContext(ctx))
	if !t.Stop() {
		if err == nil {
			resp.Body.Close()
		}
		<-ctx.Done() // the timer's cancel may still be on its way
		return nil, context.Cause(ctx)
	}
	if err != nil {
		cancel(nil)
		return nil, err
	}
	context.AfterFunc(req.Context(), func() { cancel(nil) })
	return resp, nil
}
