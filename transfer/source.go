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

	"github.com/servent-p2p/servent/storage"
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
)

// busyError carries a busy source's Retry-After.
type busyError struct{ after time.Duration }

func (e busyError) Error() string { return fmt.Sprintf("source busy, retry after %s", e.after) }
func (e busyError) Unwrap() error { return errBusy }

// source is one peer serving a download, with its connection and tallies.
// dropped and err are guarded by the schedule's mutex.
type source struct {
	Source
	d *Downloader

	dialOnce sync.Once
	conn     *quic.Conn
	cc       *http3.ClientConn
	dialErr  error

	bytes    atomic.Int64
	chunks   atomic.Int64
	failures atomic.Int64
	liar     atomic.Bool

	dropped bool
	err     error
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

// client dials the source once and returns its HTTP/3 client connection.
func (s *source) client(ctx context.Context) (*http3.ClientConn, error) {
	s.dialOnce.Do(func() {
		tlsConf := s.d.cfg.TLSConfig(s.Source)
		conn, err := s.d.cfg.Dial(ctx, s.Addr, tlsConf, s.d.cfg.QUICConfig.Clone())
		if err != nil {
			s.dialErr = fmt.Errorf("dial %s: %w", s.Addr, err)
			return
		}
		s.conn = conn
		s.cc = (&http3.Transport{}).NewClientConn(conn)
	})
	return s.cc, s.dialErr
}

// close closes the source's connection, if any.
func (s *source) close() {
	if s.conn != nil {
		s.conn.CloseWithError(0, "done")
	}
}

// connDead reports whether the source's QUIC connection has ended.
func (s *source) connDead() bool { return s.conn != nil && s.conn.Context().Err() != nil }

// get issues GET path with an optional byte range and returns the body
// read into buf (which must have exactly the expected length).
func (s *source) get(ctx context.Context, path string, off int64, buf []byte, whole bool) error {
	cc, err := s.client(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+s.Addr.String()+path, nil)
	if err != nil {
		return err
	}
	if !whole {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+int64(len(buf))-1, 10))
	}
	resp, err := cc.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("GET %s from %s: %w", path, s.Name, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && !whole,
		resp.StatusCode == http.StatusOK && (whole || off == 0 && resp.ContentLength == int64(len(buf))):
	case resp.StatusCode == http.StatusServiceUnavailable:
		after, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return busyError{after: time.Duration(min(max(after, 1), 30)) * time.Second}
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusConflict,
		resp.StatusCode == http.StatusForbidden, resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("%w: %s answered %s", errGoneAtSource, s.Name, resp.Status)
	default:
		return fmt.Errorf("GET %s from %s: unexpected %s", path, s.Name, resp.Status)
	}
	if resp.ContentLength >= 0 && resp.ContentLength != int64(len(buf)) {
		return fmt.Errorf("%w: %s sent %d bytes, want %d", errLiar, s.Name, resp.ContentLength, len(buf))
	}
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		return fmt.Errorf("read %s from %s: %w", path, s.Name, err)
	}
	return nil
}

// outboard fetches and checks the Bao outboard of h. size < 0 means
// unknown (taken from the outboard's 8-byte little-endian header).
func (s *source) outboard(ctx context.Context, h storage.Hash, size int64) ([]byte, int64, error) {
	cc, err := s.client(ctx)
	if err != nil {
		return nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+s.Addr.String()+"/outboard/"+h.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := cc.RoundTrip(req)
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
	if !storage.VerifyOutboard(h, ob, obSize) {
		return nil, 0, fmt.Errorf("%w: outboard does not match the hash", errLiar)
	}
	return ob, obSize, nil
}
