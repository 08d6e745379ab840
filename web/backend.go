package web

import (
	"context"

	"github.com/servent-p2p/servent/api"
)

// Backend is what the page needs from the node; the daemon implements it.
// Its methods are called concurrently from request goroutines.
type Backend interface {
	// Search runs a network search (the same path as `servent search`) and
	// calls fn for each result as it grows (grouped by hash, sources
	// growing; fn may be called again for the same hash with more sources).
	// It blocks until req.Timeout or ctx ends and returns the summary.
	Search(ctx context.Context, req api.SearchRequest, fn func(api.Result)) api.SearchDone
	// Fetch downloads the file req.Hash (verified, multi-source, as
	// `servent get`) into a node-local cache unless it is already there, and
	// returns the path of the complete, verified file. req.OutDir is empty:
	// the node chooses where; req.Name is a sanitised base name (a hint);
	// req.Sources holds the peers a recent page search saw (maybe none).
	// It blocks until the file is complete or ctx ends.
	Fetch(ctx context.Context, req api.GetRequest) (path string, err error)
	// Peers lists the members of the network (the browse view's start).
	// It must not block for long.
	Peers() []api.Peer
	// Browse asks peer (a member's name) for the files it shares below
	// folder ("" for all), as `servent browse` does. It blocks until the
	// peer answered or ctx ends.
	Browse(ctx context.Context, peer, folder string) (api.Listing, error)
	// Rescan tells the node that a file was added to the drop folder
	// (Config.DropDir), so that it is hashed and shared soon. It must not
	// block.
	Rescan()
}
