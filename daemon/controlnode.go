package daemon

import (
	"context"

	"github.com/servent-p2p/servent/api"
)

// controlNode is the node as its control API sees it (controlOps).
type controlNode struct{ d *Daemon }

var _ controlOps = controlNode{}

func (n controlNode) status() api.Status { return n.d.Status() }
func (n controlNode) peers() []api.Peer  { return n.d.Peers() }

func (n controlNode) shares() ([]api.Share, error) {
	files, err := n.d.store.Files()
	if err != nil {
		return nil, err
	}
	return api.SharesOf(files), nil
}

func (n controlNode) search(ctx context.Context, req api.SearchRequest, fn func(api.Result)) api.SearchDone {
	return n.d.searcher.search(ctx, req, fn)
}

func (n controlNode) get(ctx context.Context, req api.GetRequest, progress func(api.Progress)) (*api.GetDone, error) {
	return n.d.fetcher.get(ctx, req, progress)
}

func (n controlNode) getFolder(ctx context.Context, req api.FolderRequest, progress func(api.Progress)) (*api.GetDone, error) {
	return n.d.fetcher.getFolder(ctx, req, progress)
}

func (n controlNode) browse(ctx context.Context, peer, folder string) (api.Listing, error) {
	return n.d.browser.browse(ctx, peer, folder)
}
