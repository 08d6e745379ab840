package transfer

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// TestPoolSharesOneDial: downloads that ask for a connection to the same
// source while it is being dialled wait for that one dial and share its
// failure; a later ask dials again; another source has its own dial.
func TestPoolSharesOneDial(t *testing.T) {
	var p connPool
	var dials atomic.Int32
	release := make(chan struct{})
	failing := func(context.Context) (*quic.Conn, error) {
		dials.Add(1)
		<-release
		return nil, errors.New("no route")
	}
	k := poolKey{addr: netip.MustParseAddrPort("127.0.0.9:1")}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			_, err := p.acquire(t.Context(), k, failing)
			errs <- err
		})
	}
	waiting := func() int { // asks waiting for the dial
		p.mu.Lock()
		defer p.mu.Unlock()
		if l := p.conns[k]; l != nil {
			return l.refs
		}
		return 0
	}
	for waiting() < 4 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil || err.Error() != "no route" {
			t.Errorf("acquire: %v, want the dial's error", err)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d dials for 4 concurrent asks, want 1", n)
	}
	p.acquire(t.Context(), k, failing)
	p.acquire(t.Context(), poolKey{addr: netip.MustParseAddrPort("127.0.0.9:2")}, failing)
	if n := dials.Load(); n != 3 {
		t.Errorf("%d dials, want a new one after the failure and one for the other source", n)
	}
	kept := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.conns)
	}
	for deadline := time.Now().Add(5 * time.Second); kept() > 0; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("%d failed dials kept in the pool", kept())
		}
	}
}
