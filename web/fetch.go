package web

import (
	"context"
	"errors"
	"sync"

	"github.com/servent-p2p/servent/api"
)

// maxFlights bounds the distinct files being fetched (running or queued).
const maxFlights = 64

// errBusy is returned when too many distinct files are being fetched.
var errBusy = errors.New("too many files are being fetched")

// flights runs at most one Backend.Fetch per hash: a phone's parallel or
// repeated Range requests for one file share it. A fetch runs under the
// server's context, not the request's, so a phone that gives up and comes
// back finds the file fetched (or still coming). Safe for concurrent use.
type flights struct {
	mu     sync.Mutex
	byHash map[string]*flight
}

type flight struct {
	done chan struct{}
	path string
	err  error
}

// fetch returns the path of the verified file for req.Hash, starting a
// fetch unless one is running. It blocks until the file is there or ctx
// ends.
func (s *Server) fetch(ctx context.Context, req api.GetRequest) (string, error) {
	f, err := s.flightFor(req)
	if err != nil {
		return "", err
	}
	select {
	case <-f.done:
		return f.path, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// flightFor returns the running flight for req.Hash or starts one.
func (s *Server) flightFor(req api.GetRequest) (*flight, error) {
	s.flights.mu.Lock()
	defer s.flights.mu.Unlock()
	if f := s.flights.byHash[req.Hash]; f != nil {
		return f, nil
	}
	if len(s.flights.byHash) >= maxFlights {
		return nil, errBusy
	}
	if s.flights.byHash == nil {
		s.flights.byHash = make(map[string]*flight)
	}
	f := &flight{done: make(chan struct{})}
	s.flights.byHash[req.Hash] = f
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f.path, f.err = s.runFetch(req)
		s.flights.mu.Lock()
		delete(s.flights.byHash, req.Hash)
		s.flights.mu.Unlock()
		close(f.done)
	}()
	return f, nil
}

// runFetch calls the backend once a fetch slot is free.
func (s *Server) runFetch(req api.GetRequest) (string, error) {
	ctx, cancel := context.WithTimeout(s.base, s.cfg.FetchTimeout)
	defer cancel()
	select {
	case s.fetchSlots <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.fetchSlots }()
	return s.backend.Fetch(ctx, req)
}
