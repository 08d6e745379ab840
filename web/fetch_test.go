package web

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
)

// Parallel requests for one file share one backend fetch.
func TestFetchSharedPerHash(t *testing.T) {
	b := newTestBackend(t)
	b.gate = make(chan struct{})
	hash := b.addFile("a.bin", []byte("abc"), 1)
	s, err := New(Config{Listen: "127.0.0.1:0", Logger: quiet}, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	req := api.GetRequest{Hash: hash, Name: "a.bin"}
	f1, err1 := s.flightFor(req)
	f2, err2 := s.flightFor(req)
	if err1 != nil || err2 != nil || f1 != f2 {
		t.Fatalf("two requests for one hash got two fetches: %v %v", err1, err2)
	}
	close(b.gate)
	<-f1.done
	if f1.err != nil || b.fetches.Load() != 1 {
		t.Fatalf("fetch: %v, %d backend calls", f1.err, b.fetches.Load())
	}
	path, err := s.fetch(t.Context(), req) // done flights are forgotten: a new fetch
	if err != nil || path != f1.path || b.fetches.Load() != 2 {
		t.Fatalf("second fetch: %q %v, %d backend calls", path, err, b.fetches.Load())
	}
}

func TestFetchBoundedAndClosed(t *testing.T) {
	b := newTestBackend(t)
	b.gate = make(chan struct{}) // never opened: fetches hang until Close
	s, err := New(Config{Listen: "127.0.0.1:0", Logger: quiet}, b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxFlights {
		if _, err := s.flightFor(api.GetRequest{Hash: fmt.Sprintf("%064x", i)}); err != nil {
			t.Fatalf("flight %d: %v", i, err)
		}
	}
	if _, err := s.flightFor(api.GetRequest{Hash: strings.Repeat("f", 64)}); !errors.Is(err, errBusy) {
		t.Fatalf("flight beyond the bound: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the hanging fetches")
	}
}
