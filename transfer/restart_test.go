package transfer

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/servent-p2p/servent/content"
)

// daemonListenQUIC is the QUIC config a servent's listener accepts
// transfer connections with (overlay's listenQUICConfig): no keep-alives,
// a long idle timeout (the datagram plane's).
func daemonListenQUIC() *quic.Config {
	return &quic.Config{HandshakeIdleTimeout: 3 * time.Second, MaxIdleTimeout: 60 * time.Second, EnableDatagrams: true}
}

// killableNode is a downloading node whose UDP socket can be closed
// under it: nothing more leaves it, no CONNECTION_CLOSE either, as when
// its process is SIGKILLed or its laptop's lid is closed.
type killableNode struct {
	udp *net.UDPConn
	d   *Downloader
}

// newKillableNode starts a downloader with key cert on ip, swarming (as
// a servent does by default), and st as its state: a restart is a new
// node with the same key and st. Its QUIC config is the Downloader's
// default but for a stream window smaller than a chunk: as on a real
// link, where a chunk is many congestion windows, a source sends a chunk
// only as fast as the downloader acknowledges it, so a chunk in flight
// at the kill cannot be finished (on loopback a congestion window can
// hold a whole chunk).
func newKillableNode(t *testing.T, ip string, cert tls.Certificate, fp Key, st State) *killableNode {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: udp}
	t.Cleanup(func() { tr.Close(); udp.Close() })
	sw := NewSwarm(fp, 0)
	t.Cleanup(sw.Close)
	qconf := dialQUIC()
	qconf.InitialStreamReceiveWindow, qconf.MaxStreamReceiveWindow = 64<<10, 256<<10
	d, err := NewDownloader(Config{
		State: st,
		Dial: func(ctx context.Context, addr netip.AddrPort, tlsConf *tls.Config, quicConf *quic.Config) (*quic.Conn, error) {
			return tr.Dial(ctx, UDPAddr(addr), tlsConf, quicConf)
		},
		TLSConfig: func(s Source) *tls.Config {
			conf := pinTLS(s.Fingerprint)
			conf.Certificates = []tls.Certificate{cert}
			return conf
		},
		Swarm:      sw,
		QUICConfig: qconf,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &killableNode{udp: udp, d: d}
}

// TestRestartedDownloaderResumesAtOnce: a downloader is killed
// mid-transfer (its socket closed: the source hears nothing more) and
// started again with the same key and state on a new port. Its resumed
// download gets bytes within a few seconds: the source does not keep
// the dead connection's requests against that key's upload slots until
// the connection times out (30 s), or the upload makes no progress (20 s).
func TestRestartedDownloaderResumesAtOnce(t *testing.T) {
	const size = 12 * content.ChunkSize
	cat := newCatalog()
	f, data := share(t, cat, "map.bin", size)
	scert, sfp := selfSigned(t)
	sw := NewSwarm(sfp, 0)
	t.Cleanup(sw.Close)
	seeder := listenPeer(t, "127.0.0.60", cat, ServerConfig{Swarm: sw}, uplink(4<<20), scert, sfp, daemonListenQUIC())
	cert, fp := selfSigned(t)
	st, out := newState(), t.TempDir()
	req := Request{Hash: f.Hash, Name: "map.bin", OutDir: out, Sources: []Source{seeder.source("seeder")}}

	first := newKillableNode(t, "127.0.0.61", cert, fp, st)
	ctx, cancel := context.WithCancel(testCtx(t))
	arrived := make(chan struct{})
	var once sync.Once
	req.Progress = func(p Progress) {
		if p.Done >= 4*content.ChunkSize {
			once.Do(func() { close(arrived) })
		}
	}
	done := make(chan error, 1)
	go func() { _, err := first.d.Get(ctx, req); done <- err }()
	select {
	case <-arrived:
	case err := <-done:
		t.Fatalf("the first run ended before the kill: %v", err)
	}
	for _, busy := range []bool{false, true} { // the kill comes as a chunk starts
		for (seeder.srv.Stats().Active > 0) != busy {
			time.Sleep(time.Millisecond)
		}
	}
	first.udp.Close() // killed: nothing more leaves the node
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the killed run finished the download")
	}
	time.Sleep(100 * time.Millisecond)
	if seeder.srv.Stats().Active == 0 {
		t.Fatal("the seeder's upload ended at the kill: the test does not exercise a dead connection")
	}

	again := newKillableNode(t, "127.0.0.61", cert, fp, st)
	started := time.Now()
	var firstByte time.Duration
	var fb sync.Once
	req.Progress = func(Progress) { fb.Do(func() { firstByte = time.Since(started) }) }
	var maxActive int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() { // a swarm member is sent one chunk at a time, old connection or new
		defer close(watched)
		for tick := time.NewTicker(time.Millisecond); ; {
			select {
			case <-stop:
				tick.Stop()
				return
			case <-tick.C:
				maxActive = max(maxActive, seeder.srv.Stats().Active)
			}
		}
	}()
	res, err := again.d.Get(testCtx(t), req)
	close(stop)
	<-watched
	if err != nil {
		t.Fatal(err)
	}
	if maxActive > 1 {
		t.Errorf("%d uploads at once to one swarm member (its cap is 1)", maxActive)
	}
	if n := seeder.srv.Stats().Superseded; n != 1 {
		t.Errorf("%d connections superseded, want the dead one", n)
	}
	checkDownloaded(t, res, data)
	t.Logf("restarted downloader: first verified chunk after %s, whole resume %s; seeder %+v",
		firstByte.Round(time.Millisecond), time.Since(started).Round(time.Millisecond), seeder.srv.Stats())
	if res.ChunksResumed == 0 {
		t.Error("nothing was resumed")
	}
	if firstByte > 5*time.Second {
		t.Errorf("the restarted downloader waited %s for its first chunk (want a few seconds at most)", firstByte.Round(time.Millisecond))
	}
}

// keyedClient is an HTTP/3 client presenting cert, dialling from a new
// UDP socket on ip with qconf; closing the socket kills it.
func keyedClient(t *testing.T, ip string, cert tls.Certificate, qconf *quic.Config) (*http.Client, *net.UDPConn) {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	qt := &quic.Transport{Conn: udp}
	conf := pinTLS([32]byte{})
	conf.Certificates = []tls.Certificate{cert}
	tr := &http3.Transport{TLSClientConfig: conf, QUICConfig: qconf,
		Dial: func(ctx context.Context, addr string, tlsConf *tls.Config, c *quic.Config) (*quic.Conn, error) {
			ua, err := net.ResolveUDPAddr("udp", addr)
			if err != nil {
				return nil, err
			}
			return qt.DialEarly(ctx, ua, tlsConf, c)
		}}
	t.Cleanup(func() { tr.Close(); qt.Close(); udp.Close() })
	return &http.Client{Transport: tr}, udp
}

// fillCap sends MaxRequestsPerPeer range requests of a chunk each for f
// to p from c and reads none of the answers: with a stream window below
// a chunk, every upload waits for c.
func fillCap(t *testing.T, c *http.Client, p *peer, f File) {
	t.Helper()
	for i := range MaxRequestsPerPeer {
		req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, "https://"+p.addr.String()+"/f/"+f.Hash.String(), nil)
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", int64(i)*content.ChunkSize, int64(i+1)*content.ChunkSize-1))
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != http.StatusPartialContent {
			t.Fatalf("request %d: %v %v", i, resp, err)
		}
		t.Cleanup(func() { resp.Body.Close() })
	}
	if a := p.srv.Stats().Active; a != MaxRequestsPerPeer {
		t.Fatalf("%d uploads in flight, want the key's cap %d", a, MaxRequestsPerPeer)
	}
}

// firstServed asks p for f's first chunk from c until it is served
// (polling a busy answer after Retry-After, as a downloader does) or
// limit passes; it returns how long that took (limit: never).
func firstServed(t *testing.T, c *http.Client, p *peer, f File, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, "https://"+p.addr.String()+"/f/"+f.Hash.String(), nil)
		req.Header.Set("Range", fmt.Sprintf("bytes=0-%d", content.ChunkSize-1))
		req.Header.Set(HeaderQueue, QueueVersion)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusPartialContent {
			return time.Since(start)
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("answer %d, want 206 or 503", resp.StatusCode)
		}
		time.Sleep(time.Second)
	}
	return limit
}

// TestSupersedeKeepsCapHonest: one key holds its whole request cap on a
// connection that reads nothing. While that connection is alive (its
// client pings it), a second connection of the key is turned away and
// nothing is superseded: a key cannot take more than its cap by opening
// connections. Once the first one's host dies, the second is served
// within a few seconds (before: after the 20 s write stall).
func TestSupersedeKeepsCapHonest(t *testing.T) {
	cat := newCatalog()
	f, _ := share(t, cat, "map.bin", MaxRequestsPerPeer*content.ChunkSize)
	scert, sfp := selfSigned(t)
	seeder := listenPeer(t, "127.0.0.62", cat, ServerConfig{}, nil, scert, sfp, daemonListenQUIC())
	cert, _ := selfSigned(t)
	qconf := dialQUIC()
	qconf.InitialStreamReceiveWindow, qconf.MaxStreamReceiveWindow = 64<<10, 64<<10
	hog, hogUDP := keyedClient(t, "127.0.0.63", cert, qconf)
	fillCap(t, hog, seeder, f)

	second, _ := keyedClient(t, "127.0.0.63", cert, qconf)
	if d := firstServed(t, second, seeder, f, 3*time.Second); d < 3*time.Second {
		t.Fatalf("a second connection of a key at its cap was served after %s", d)
	}
	if n := seeder.srv.Stats().Superseded; n != 0 {
		t.Fatalf("%d live connections superseded", n)
	}

	hogUDP.Close() // its host dies with the cap in flight
	d := firstServed(t, second, seeder, f, 10*time.Second)
	t.Logf("served %s after the first connection's host died; seeder %+v", d.Round(time.Millisecond), seeder.srv.Stats())
	if d > 5*time.Second {
		t.Errorf("the key's new connection waited %s for its dead one's requests to give the cap back", d.Round(time.Millisecond))
	}
	if st := seeder.srv.Stats(); st.Superseded != 1 {
		t.Errorf("%d connections superseded, want 1", st.Superseded)
	}
}
