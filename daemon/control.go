package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/servent-p2p/servent/api"
)

// controlServer serves the control API on the data dir's unix socket.
type controlServer struct {
	srv  *http.Server
	ln   net.Listener
	path string
	done chan struct{}
}

func startControl(d *Daemon) (*controlServer, error) {
	path := api.SocketPath(d.cfg.Data)
	// The data dir lock is held, so a socket file left here is stale.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := restrictSocket(path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.RouteStatus, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, d.Status()) })
	mux.HandleFunc("GET "+api.RouteShares, func(w http.ResponseWriter, r *http.Request) {
		files, err := d.store.Files()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, api.SharesOf(files))
	})
	mux.HandleFunc("GET "+api.RoutePeers, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, d.Peers()) })
	mux.HandleFunc("POST "+api.RouteSearch, d.serveSearch)
	mux.HandleFunc("POST "+api.RouteGet, d.serveGet)
	mux.HandleFunc("POST "+api.RouteBrowse, d.serveBrowse)
	mux.HandleFunc("POST "+api.RouteGetFolder, d.serveGetFolder)
	c := &controlServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil},
		ln:   ln,
		path: path,
		done: make(chan struct{}),
	}
	go func() {
		defer close(c.done)
		c.srv.Serve(ln)
	}()
	return c, nil
}

func (c *controlServer) close() error {
	err := c.srv.Close()
	<-c.done
	os.Remove(c.path)
	return err
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// eventStream writes one JSON object per line and flushes each.
type eventStream struct {
	w   http.ResponseWriter
	enc *json.Encoder
	rc  *http.ResponseController
}

func newEventStream(w http.ResponseWriter) *eventStream {
	w.Header().Set("Content-Type", "application/x-ndjson")
	return &eventStream{w: w, enc: json.NewEncoder(w), rc: http.NewResponseController(w)}
}

func (s *eventStream) send(v any) error {
	if err := s.enc.Encode(v); err != nil {
		return err
	}
	return s.rc.Flush()
}

func decodeRequest(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
