package daemon

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/internal/names"
	"github.com/servent-p2p/servent/transfer"
)

// sourceSearchTimeout bounds the hash search that finds sources for a get.
const sourceSearchTimeout = 3 * time.Second

// sourceFinder runs a search (the node's searcher).
type sourceFinder interface {
	search(ctx context.Context, req api.SearchRequest, fn func(api.Result)) api.SearchDone
}

// fileGetter downloads one file, verified (transfer.Downloader).
type fileGetter interface {
	Get(ctx context.Context, req transfer.Request) (transfer.Result, error)
}

var _ fileGetter = (*transfer.Downloader)(nil)

// fetchNet is what a fetcher needs from the rest of the node: the peers
// and its own files. Its methods are called concurrently.
type fetchNet interface {
	// dialable returns the sources among in that a download may dial.
	dialable(in []transfer.Source) []transfer.Source
	// browse lists peer's files below folder. It blocks.
	browse(ctx context.Context, peer, folder string) (api.Listing, error)
	// openLocal opens this node's own file with content hash h,
	// returning its size as catalogued and its path.
	openLocal(h content.Hash) (io.ReadCloser, int64, string, error)
}

// fetcher runs the node's downloads: single files (from given sources or
// those a hash search finds), folders (from a peer's listing), the phone
// page's cached files, and the sharing of finished downloads. Safe for
// concurrent use.
type fetcher struct {
	sources  sourceFinder
	getter   fileGetter
	net      fetchNet
	cache    *webCache // the phone page's downloads
	shareDir string    // where shared downloads are linked (sharedDownloadsDir)
	rescan   func()    // asks for a rescan of the shares; does not block
	log      *slog.Logger
}

// findSources runs a search by hash and returns every peer that answered
// with that hash (a hit for another one is ignored).
func (f *fetcher) findSources(ctx context.Context, h content.Hash) (api.Result, []api.Source) {
	var res api.Result
	f.sources.search(ctx, api.SearchRequest{Hash: h.String(), Timeout: sourceSearchTimeout}, func(r api.Result) {
		if r.Hash == h.String() {
			res = r
		}
	})
	return res, res.Sources
}

// download fetches the file req names into req.OutDir: from req.Sources,
// or from the peers a hash search finds (also when the given sources are
// gone, and again while only partial holders are left). progress, if not
// nil, is called as verified bytes arrive. Blocks.
func (f *fetcher) download(ctx context.Context, req api.GetRequest, progress func(transfer.Progress)) (transfer.Result, error) {
	h, err := content.ParseHash(req.Hash)
	if err != nil {
		return transfer.Result{}, err
	}
	sources := req.Sources
	var found api.Result
	if len(sources) == 0 {
		found, sources = f.findSources(ctx, h)
	}
	name := names.Base(req.Name) // names come from the network: made safe here
	if name == "" {
		name = names.Base(found.Name)
	}
	if name == "" {
		name = h.String()
	}
	get := func(sources []api.Source) (transfer.Result, error) {
		return f.getter.Get(ctx, transfer.Request{
			Hash:     h, // the size comes from the verified outboard, never from a hit
			Name:     name,
			OutDir:   req.OutDir,
			Sources:  f.net.dialable(sourcesOf(sources)),
			Progress: progress,
			// With only partial holders left, search again: a whole copy
			// may have come back, other holders joined.
			Find: func(ctx context.Context) []transfer.Source {
				_, fresh := f.findSources(ctx, h)
				return f.net.dialable(sourcesOf(fresh))
			},
		})
	}
	res, err := transfer.Result{}, error(transfer.ErrNoSources)
	if len(sources) > 0 {
		res, err = get(sources)
	}
	if errors.Is(err, transfer.ErrNoSources) && len(req.Sources) > 0 {
		// The sources of the last search are gone: ask the network again.
		if _, fresh := f.findSources(ctx, h); len(fresh) > 0 {
			res, err = get(fresh)
		}
	}
	if errors.Is(err, transfer.ErrNoSources) {
		err = fmt.Errorf("no peer can serve %s now (%w); any partial file is kept: run the same command again to resume", h, err)
	}
	return res, err
}

// get runs the download req names and builds its final record (sharing
// the file when asked). Blocks.
func (f *fetcher) get(ctx context.Context, req api.GetRequest, progress func(api.Progress)) (*api.GetDone, error) {
	started := time.Now()
	res, err := f.download(ctx, req, func(p transfer.Progress) { progress(api.ProgressOf(p)) })
	if err != nil {
		return nil, err
	}
	done := &api.GetDone{
		Path:    res.Path,
		Size:    res.Size,
		Hash:    res.Hash.String(),
		Seconds: time.Since(started).Seconds(),
		Sources: map[string]int64{},
		Renamed: res.Renamed,
		Resumed: res.ChunksResumed > 0,
		Liars:   res.Liars,
	}
	for _, s := range res.Sources {
		if s.Bytes > 0 {
			done.Sources[s.Name] = s.Bytes
		}
	}
	if req.Share {
		if err := f.shareDownload(res.Path); err != nil {
			f.log.Warn("sharing the download", "err", err)
		} else {
			done.Shared = true
		}
	}
	return done, nil
}

// sourcesOf converts API sources, skipping malformed ones.
func sourcesOf(in []api.Source) []transfer.Source {
	var out []transfer.Source
	for _, s := range in {
		ap, err := netip.ParseAddrPort(s.Addr)
		if err != nil {
			continue
		}
		src := transfer.Source{Name: s.Name, Addr: ap, Partial: s.Partial}
		if fp, err := hex.DecodeString(s.Fingerprint); err == nil && len(fp) == len(src.Fingerprint) {
			copy(src.Fingerprint[:], fp)
		}
		out = append(out, src)
	}
	return out
}
