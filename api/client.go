package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
)

// SocketName is the control socket's file name inside the data directory.
const SocketName = "servent.sock"

// ErrNoDaemon means no servent daemon answers on the data directory's
// control socket.
var ErrNoDaemon = errors.New("no servent running")

// ErrBrokenStream means the daemon's answer broke off: the connection
// closed before an answer or in the middle of a stream, with no event
// saying why. The daemon never does that on purpose: its log says why.
var ErrBrokenStream = errors.New("the daemon's answer broke off")

// SocketPath returns the control socket of the daemon using dataDir.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, SocketName) }

// Client talks to a local daemon over its control socket. It is safe for
// concurrent use.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a client for the daemon using dataDir. It does not
// connect until a call is made.
func NewClient(dataDir string) *Client {
	sock := SocketPath(dataDir)
	return &Client{
		socket: sock,
		http: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			},
		}},
	}
}

// Status returns the daemon's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	return s, c.getJSON(ctx, RouteStatus, &s)
}

// Shares returns the daemon's catalog.
func (c *Client) Shares(ctx context.Context) ([]Share, error) {
	var s []Share
	return s, c.getJSON(ctx, RouteShares, &s)
}

// Peers returns the members the daemon sees.
func (c *Client) Peers(ctx context.Context) ([]Peer, error) {
	var p []Peer
	return p, c.getJSON(ctx, RoutePeers, &p)
}

// Search runs a search and calls fn for every event until the stream ends.
// It blocks until then or until ctx is done.
func (c *Client) Search(ctx context.Context, req SearchRequest, fn func(SearchEvent)) error {
	return c.stream(ctx, RouteSearch, req, func(dec *json.Decoder) error {
		var ev SearchEvent
		if err := dec.Decode(&ev); err != nil {
			return err
		}
		fn(ev)
		return nil
	})
}

// Get runs a download and calls fn for every event until the stream ends.
// It blocks until then or until ctx is done.
func (c *Client) Get(ctx context.Context, req GetRequest, fn func(GetEvent)) error {
	return c.getEvents(ctx, RouteGet, req, fn)
}

// getEvents reads a download stream.
func (c *Client) getEvents(ctx context.Context, route string, req any, fn func(GetEvent)) error {
	return c.stream(ctx, route, req, func(dec *json.Decoder) error {
		var ev GetEvent
		if err := dec.Decode(&ev); err != nil {
			return err
		}
		fn(ev)
		return nil
	})
}

func (c *Client) do(ctx context.Context, method, route string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://servent"+route, rd)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	var op *net.OpError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &op) && op.Op == "dial":
		return nil, fmt.Errorf("%w on %s (start one with `servent run`, or pick its data dir with --data): %v", ErrNoDaemon, c.socket, errors.Unwrap(err))
	default:
		return nil, fmt.Errorf("%w: %v", ErrBrokenStream, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("daemon: %s", bytes.TrimSpace(msg))
	}
	return resp, nil
}

func (c *Client) getJSON(ctx context.Context, route string, out any) error {
	resp, err := c.do(ctx, http.MethodGet, route, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c *Client) stream(ctx context.Context, route string, req any, next func(*json.Decoder) error) error {
	resp, err := c.do(ctx, http.MethodPost, route, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(bufio.NewReader(resp.Body))
	for {
		if err := next(dec); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w: %w", ErrBrokenStream, err)
		}
	}
}

// Browse asks the daemon for a peer's listing. It blocks until the peer
// answered or ctx is done.
func (c *Client) Browse(ctx context.Context, req BrowseRequest) (Listing, error) {
	var l Listing
	resp, err := c.do(ctx, http.MethodPost, RouteBrowse, req)
	if err != nil {
		return l, err
	}
	defer resp.Body.Close()
	return l, json.NewDecoder(resp.Body).Decode(&l)
}

// GetFolder runs a folder download and calls fn for every event until the
// stream ends. It blocks until then or until ctx is done.
func (c *Client) GetFolder(ctx context.Context, req FolderRequest, fn func(GetEvent)) error {
	return c.getEvents(ctx, RouteGetFolder, req, fn)
}
