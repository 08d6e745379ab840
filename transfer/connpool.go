package transfer

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// poolLinger is how long a connection no download uses any more stays
// open for the next one (the next file of a folder, the next get).
const poolLinger = 2 * time.Second

// connPool shares one QUIC connection per source (address and pinned
// key) among a Downloader's downloads: a folder of small files costs one
// handshake, not one per file, and a source sees one connection per
// downloader. Safe for concurrent use.
type connPool struct {
	mu    sync.Mutex
	conns map[poolKey]*lease
}

// poolKey names a source's connection: where it is dialled and which
// key it must present.
type poolKey struct {
	addr netip.AddrPort
	fp   [32]byte
}

// lease is one pooled connection and its users. refs and idle are
// guarded by the pool's mutex; conn, cc and err are set once, before
// ready is closed.
type lease struct {
	ready chan struct{} // closed when the dial ended
	conn  *quic.Conn
	cc    *http3.ClientConn
	err   error
	refs  int
	idle  *time.Timer // closes the connection once nobody uses it
}

// live reports whether l's connection is up.
func (l *lease) live() bool { return l.err == nil && l.conn.Context().Err() == nil }

// acquire returns a live connection to k, dialling it with dial when the
// pool has none (one dial at a time per key: others wait for it). Give it
// back with release.
func (p *connPool) acquire(ctx context.Context, k poolKey, dial func(context.Context) (*quic.Conn, error)) (*lease, error) {
	p.mu.Lock()
	l := p.conns[k]
	if l != nil {
		select {
		case <-l.ready:
			if !l.live() {
				l = nil // dead or failed: dial again
			}
		default: // being dialled: wait for it below
		}
	}
	if l == nil {
		l = &lease{ready: make(chan struct{})}
		if p.conns == nil {
			p.conns = make(map[poolKey]*lease)
		}
		p.conns[k] = l
		go p.dial(k, l, ctx, dial)
	}
	l.refs++
	if l.idle != nil {
		l.idle.Stop()
		l.idle = nil
	}
	p.mu.Unlock()
	select {
	case <-l.ready:
	case <-ctx.Done():
		p.release(k, l)
		return nil, ctx.Err()
	}
	if l.err != nil {
		p.release(k, l)
		return nil, l.err
	}
	return l, nil
}

// dial dials l's connection for its first user, with that user's
// context: a dial the user gives up on fails for every waiter, who may
// try again.
func (p *connPool) dial(k poolKey, l *lease, ctx context.Context, dial func(context.Context) (*quic.Conn, error)) {
	conn, err := dial(ctx)
	if err == nil {
		l.conn, l.cc = conn, (&http3.Transport{}).NewClientConn(conn)
	}
	l.err = err
	close(l.ready)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil && p.conns[k] == l:
		delete(p.conns, k)
	case err == nil && l.refs == 0: // its users gave up while it was dialled
		p.linger(k, l)
	}
}

// release gives l back; its connection is closed poolLinger after its
// last user gave it back, unless it is taken again first.
func (p *connPool) release(k poolKey, l *lease) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l.refs--; l.refs == 0 {
		p.linger(k, l)
	}
}

// linger closes l's connection poolLinger from now unless it is taken
// again before, or at once when the pool holds another connection for k.
// A connection still being dialled is left to dial, which lingers it if
// nobody waits for it any more. Called with p.mu held.
func (p *connPool) linger(k poolKey, l *lease) {
	select {
	case <-l.ready:
	default:
		return
	}
	closeIt := func() {
		if l.conn != nil {
			l.conn.CloseWithError(0, "done")
		}
	}
	if p.conns[k] != l {
		closeIt()
		return
	}
	l.idle = time.AfterFunc(poolLinger, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if l.refs > 0 || l.idle == nil {
			return
		}
		if p.conns[k] == l {
			delete(p.conns, k)
		}
		closeIt()
	})
}
