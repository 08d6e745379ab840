package transfer

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// silentAfter: a connection with file requests in flight that has
// received no packet for this long (or for 4 smoothed round trips, if
// longer) is taken for dead once its key connects again. A live
// downloader is never that quiet: it acknowledges what it is sent and
// pings a quiet connection every keepAlive.
const silentAfter = time.Second

// peerConn is one accepted connection of a served peer. active and the
// sample are guarded by the Server's mu.
type peerConn struct {
	c    *quic.Conn
	peer string
	// active counts the file requests in flight on it.
	active int
	// heard is its count of received packets when first seen, at
	// heardAt: the connection has been silent since heardAt at least.
	heard   uint64
	heardAt time.Time
	// closing: superseded, being closed.
	closing bool
}

// sample records c's received-packet count at now and reports whether
// nothing has arrived since heardAt for silentAfter (4 RTTs if longer).
func (pc *peerConn) sample(now time.Time) (silent bool) {
	st := pc.c.ConnectionStats()
	if st.PacketsReceived != pc.heard || pc.heardAt.IsZero() {
		pc.heard, pc.heardAt = st.PacketsReceived, now
		return false
	}
	return now.Sub(pc.heardAt) >= max(silentAfter, 4*st.SmoothedRTT)
}

// connCtxKey is the context key of a request's *peerConn.
type connCtxKey struct{}

// connOf returns the connection r arrived on, or nil when it did not
// come through trackConn.
func connOf(r *http.Request) *peerConn {
	pc, _ := r.Context().Value(connCtxKey{}).(*peerConn)
	return pc
}

// trackConn records a new connection of its peer until it closes: a peer
// keeps its slot and its queue place only while it stays connected, and
// a key that connects again supersedes its silent connections.
func (s *Server) trackConn(ctx context.Context, c *quic.Conn) context.Context {
	select { // the client's certificate is known once the handshake is done
	case <-c.HandshakeComplete():
	case <-c.Context().Done():
	}
	pc := &peerConn{c: c, peer: connPeer(c.ConnectionState().TLS, c.RemoteAddr())}
	s.stats.connections.Add(1)
	s.mu.Lock()
	s.queue.connOpened(pc.peer)
	if s.conns[pc.peer] == nil {
		s.conns[pc.peer] = make(map[*peerConn]struct{})
	}
	s.conns[pc.peer][pc] = struct{}{}
	s.mu.Unlock()
	context.AfterFunc(c.Context(), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.log.Debug("peer connection closed", "peer", pc.peer)
		if delete(s.conns[pc.peer], pc); len(s.conns[pc.peer]) == 0 {
			delete(s.conns, pc.peer)
		}
		s.queue.connClosed(time.Now(), pc.peer)
	})
	return context.WithValue(ctx, connCtxKey{}, pc)
}

// beginRequest counts a file request in flight on pc (nil: untracked)
// and returns the function that ends it.
func (s *Server) beginRequest(pc *peerConn) (end func()) {
	if pc == nil {
		return func() {}
	}
	s.mu.Lock()
	pc.active++
	pc.sample(time.Now())
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		pc.active--
		pc.sample(time.Now())
		s.mu.Unlock()
	}
}

// supersede is called when a request on pc is turned away because its
// key's upload slot or request cap is taken. The key proved itself in
// pc's handshake; its other connections that have requests in flight
// but have been silent for silentAfter belong to a run of it that died
// (killed, or its laptop's lid closed): they are closed, so that their
// requests give the key's slot back now rather than after the idle
// timeout or the write stall. A live connection is never closed, and
// nothing changes for other peers or peers known by address only: a key
// that opens more connections gains no slot, it can only lose its own
// requests.
func (s *Server) supersede(pc *peerConn) {
	if pc == nil || !strings.HasPrefix(pc.peer, "key:") {
		return
	}
	now := time.Now()
	var dead []*quic.Conn
	s.mu.Lock()
	for o := range s.conns[pc.peer] {
		if o != pc && !o.closing && o.active > 0 && o.sample(now) {
			o.closing = true
			dead = append(dead, o.c)
			s.log.Info("peer connected again; its silent connection closed", "peer", o.peer, "silent", now.Sub(o.heardAt).Round(time.Millisecond))
		}
	}
	s.mu.Unlock()
	for _, c := range dead {
		s.stats.superseded.Add(1)
		c.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "superseded by a new connection of the same key")
	}
}
