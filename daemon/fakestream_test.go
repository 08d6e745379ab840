package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// fakeDialer is a streamDialer over in-memory pipes: each dial to a peer
// runs that peer's serve function on the other end in a goroutine. A peer
// without a serve function does not speak the protocol (errNoProtocol).
type fakeDialer struct {
	mu    sync.Mutex
	serve map[string]func(peer string, s *pipeStream)
	dials map[string]int
	wg    sync.WaitGroup
}

var _ streamDialer = (*fakeDialer)(nil)

func newFakeDialer() *fakeDialer {
	return &fakeDialer{serve: make(map[string]func(string, *pipeStream)), dials: make(map[string]int)}
}

// handle makes peer answer dials with serve.
func (f *fakeDialer) handle(peer string, serve func(peer string, s *pipeStream)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.serve[peer] = serve
}

// dialed returns how often peer was dialed.
func (f *fakeDialer) dialed(peer string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dials[peer]
}

func (f *fakeDialer) dialStream(ctx context.Context, peer, alpn string) (peerStream, error) {
	f.mu.Lock()
	serve := f.serve[peer]
	f.dials[peer]++
	f.mu.Unlock()
	if serve == nil {
		return nil, fmt.Errorf("%s to %s: %w", alpn, peer, errNoProtocol)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	a, b := net.Pipe()
	conn, cancel := context.WithCancelCause(context.Background())
	near, far := &pipeStream{Conn: a, ctx: conn, cancel: cancel}, &pipeStream{Conn: b, ctx: conn, cancel: cancel}
	f.wg.Go(func() {
		defer far.Close()
		serve(peer, far)
	})
	return near, nil
}

// pipeStream is a peerStream on one end of a net.Pipe; closing either end
// closes the "connection".
type pipeStream struct {
	net.Conn
	ctx    context.Context
	cancel context.CancelCauseFunc
}

var errConnClosed = errors.New("connection closed")

func (s *pipeStream) connContext() context.Context { return s.ctx }

func (s *pipeStream) Close() error {
	s.cancel(errConnClosed)
	return s.Conn.Close()
}
