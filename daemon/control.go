package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/servent-p2p/servent/api"
)

// controlOps is what the control API serves: the node's operations, each
// as the CLI asks for it. The methods are called concurrently, one call
// per request; those taking a context block until it ends or they are
// done.
type controlOps interface {
	status() api.Status
	shares() ([]api.Share, error)
	peers() []api.Peer
	search(ctx context.Context, req api.SearchRequest, fn func(api.Result)) api.SearchDone
	// get and getFolder call progress never concurrently.
	get(ctx context.Context, req api.GetRequest, progress func(api.Progress)) (*api.GetDone, error)
	getFolder(ctx context.Context, req api.FolderRequest, progress func(api.Progress)) (*api.GetDone, error)
	browse(ctx context.Context, peer, folder string) (api.Listing, error)
}

// controlServer serves the control API on the data dir's unix socket.
type controlServer struct {
	srv  *http.Server
	ln   net.Listener
	path string
	done chan struct{}
}

// startControl serves ops on the control socket of dataDir. It returns
// once the socket listens; close stops it.
func startControl(dataDir string, ops controlOps, log *slog.Logger) (*controlServer, error) {
	path := api.SocketPath(dataDir)
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
	c := &controlServer{
		srv:  &http.Server{Handler: controlHandler(ops, log), ReadHeaderTimeout: 5 * time.Second},
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

// close stops serving and removes the socket; it waits for the server.
func (c *controlServer) close() error {
	err := c.srv.Close()
	<-c.done
	os.Remove(c.path)
	return err
}

// controlHandler routes the control API's requests to ops.
func controlHandler(ops controlOps, log *slog.Logger) http.Handler {
	a := controlAPI{ops: ops, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.RouteStatus, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, ops.status()) })
	mux.HandleFunc("GET "+api.RouteShares, a.serveShares)
	mux.HandleFunc("GET "+api.RoutePeers, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, ops.peers()) })
	mux.HandleFunc("POST "+api.RouteSearch, a.serveSearch)
	mux.HandleFunc("POST "+api.RouteGet, func(w http.ResponseWriter, r *http.Request) { streamGet(w, r, log, ops.get) })
	mux.HandleFunc("POST "+api.RouteBrowse, a.serveBrowse)
	mux.HandleFunc("POST "+api.RouteGetFolder, a.serveGetFolder)
	return mux
}
