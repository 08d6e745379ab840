package transfer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/servent-p2p/servent/content"
)

// errNoEntry is what the test catalog and state return for unknown hashes.
var errNoEntry = errors.New("not found")

// dirCatalog is a Catalog over real files in a temp dir.
type dirCatalog struct {
	mu      sync.Mutex
	entries map[content.Hash]catEntry
}

type catEntry struct {
	f  File
	ob []byte
}

func newCatalog() *dirCatalog { return &dirCatalog{entries: make(map[content.Hash]catEntry)} }

func (c *dirCatalog) Lookup(h content.Hash) (File, []byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[h]
	if !ok {
		return File{}, nil, errNoEntry
	}
	return e.f, e.ob, nil
}

// add hashes root/rel and catalogs it.
func (c *dirCatalog) add(t testing.TB, root, rel string) File {
	t.Helper()
	p := filepath.Join(root, rel)
	h, ob, size, err := content.HashFile(p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	f := File{Root: root, Path: rel, Size: size, ModTime: st.ModTime().UnixNano(), Hash: h}
	c.mu.Lock()
	c.entries[h] = catEntry{f: f, ob: ob}
	c.mu.Unlock()
	return f
}

// memState is a State in memory, shared between Downloaders to model a
// restart with the same badger.
type memState struct {
	mu sync.Mutex
	m  map[content.Hash]Download
}

func newState() *memState { return &memState{m: make(map[content.Hash]Download)} }

func (s *memState) PutDownload(d Download) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.Verified = bytes.Clone(d.Verified)
	s.m[d.Hash] = d
	return nil
}

func (s *memState) GetDownload(h content.Hash) (Download, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[h]
	if !ok {
		return Download{}, errNoEntry
	}
	d.Verified = bytes.Clone(d.Verified)
	return d, nil
}

func (s *memState) MarkVerified(h content.Hash, chunk int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[h]
	if !ok {
		return errNoEntry
	}
	setBit(d.Verified, chunk)
	return nil
}

func (s *memState) DeleteDownload(h content.Hash) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, h)
	return nil
}

func (s *memState) has(h content.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[h]
	return ok
}

// writeRandom writes size deterministic pseudo-random bytes to dir/name.
func writeRandom(t testing.TB, dir, name string, size int64, seed uint64) []byte {
	t.Helper()
	data := make([]byte, size)
	r := mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(data)
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// selfSigned returns a TLS certificate with a fresh ed25519 key and the
// key's fingerprint.
func selfSigned(t testing.TB) (tls.Certificate, [32]byte) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}, KeyFingerprint(cert)
}

// testQUIC is the QUIC config of test endpoints: short idle timeout so a
// killed peer is noticed quickly.
func testQUIC() *quic.Config {
	return &quic.Config{MaxIdleTimeout: 5 * time.Second, KeepAlivePeriod: time.Second, HandshakeIdleTimeout: time.Second}
}

// peer is a serving node: its own UDP socket, quic.Transport and Server.
type peer struct {
	srv  *Server
	h3   *http3.Server // non-nil when a wrapping handler is served
	tr   *quic.Transport
	ln   *quic.EarlyListener
	addr netip.AddrPort
	fp   [32]byte

	killOnce sync.Once
}

// newPeer serves cat on ip; wrap, if set, wraps the server's handler.
func newPeer(t testing.TB, ip string, cat Catalog, cfg ServerConfig, wrap func(http.Handler) http.Handler) *peer {
	t.Helper()
	cert, fp := selfSigned(t)
	return newPeerWithKey(t, ip, cat, cfg, wrap, cert, fp)
}

// newPeerWithKey is newPeer with the peer's certificate given.
func newPeerWithKey(t testing.TB, ip string, cat Catalog, cfg ServerConfig, wrap func(http.Handler) http.Handler, cert tls.Certificate, fp [32]byte) *peer {
	t.Helper()
	return listenPeer(t, ip, cat, cfg, wrap, cert, fp, testQUIC())
}

// listenPeer is newPeerWithKey with the listener's QUIC config given.
func listenPeer(t testing.TB, ip string, cat Catalog, cfg ServerConfig, wrap func(http.Handler) http.Handler, cert tls.Certificate, fp [32]byte, qconf *quic.Config) *peer {
	t.Helper()
	tr := newTransport(t, ip)
	ln, err := tr.ListenEarly(http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13, ClientAuth: tls.RequestClientCert}), qconf)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Catalog = cat
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{srv: srv, tr: tr, ln: ln, addr: tr.Conn.LocalAddr().(*net.UDPAddr).AddrPort(), fp: fp}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if wrap != nil {
			p.h3 = &http3.Server{Handler: wrap(srv), ConnContext: srv.trackConn}
			p.h3.ServeListener(ln)
			return
		}
		srv.ServeListener(ln)
	}()
	t.Cleanup(func() {
		p.kill()
		<-served
	})
	return p
}

// kill stops the peer abruptly: server, listener and socket.
func (p *peer) kill() {
	p.killOnce.Do(func() {
		if p.h3 != nil {
			p.h3.Close()
		}
		p.srv.Close()
		p.ln.Close()
		p.tr.Close()
		p.tr.Conn.Close()
	})
}

func (p *peer) source(name string) Source { return Source{Name: name, Addr: p.addr, Fingerprint: p.fp} }

// waitIdle waits until the peer has no upload in progress.
func (p *peer) waitIdle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.srv.Stats().Active != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("peer %s still has %d uploads", p.addr, p.srv.Stats().Active)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newTransport returns a quic.Transport on a new UDP socket on ip; both
// are closed at cleanup.
func newTransport(t testing.TB, ip string) *quic.Transport {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: udp}
	t.Cleanup(func() { tr.Close(); udp.Close() })
	return tr
}

// newDialer returns a DialFunc over a test-owned quic.Transport on ip.
func newDialer(t testing.TB, ip string) DialFunc {
	t.Helper()
	tr := newTransport(t, ip)
	return func(ctx context.Context, addr netip.AddrPort, tlsConf *tls.Config, quicConf *quic.Config) (*quic.Conn, error) {
		return tr.Dial(ctx, UDPAddr(addr), tlsConf, quicConf)
	}
}

// newTestDownloader returns a Downloader dialing from 127.0.0.1 over its
// own transport.
func newTestDownloader(t testing.TB, st State, mod func(*Config)) *Downloader {
	t.Helper()
	cfg := Config{State: st, Dial: newDialer(t, "127.0.0.1"), QUICConfig: testQUIC(), ChunkTimeout: 10 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	d, err := NewDownloader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkDownloaded checks the result file's bytes and that no partial file
// is left in its directory.
func checkDownloaded(t testing.TB, res Result, want []byte) {
	t.Helper()
	got, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d wanted", res.Path, len(got), len(want))
	}
	ents, err := os.ReadDir(filepath.Dir(res.Path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".part") {
			t.Fatalf("partial file %s left after success", e.Name())
		}
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}
