package daemon

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
)

// controlAPI checks the control API's requests and answers them with its
// ops (see controlHandler).
type controlAPI struct {
	ops controlOps
	log *slog.Logger
}

func (a controlAPI) serveShares(w http.ResponseWriter, r *http.Request) {
	shares, err := a.ops.shares()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, shares)
}

// serveSearch is the streaming search: one event per result, then the
// summary.
func (a controlAPI) serveSearch(w http.ResponseWriter, r *http.Request) {
	var req api.SearchRequest
	if !decodeRequest(w, r, &req) {
		return
	}
	if req.Hash != "" {
		h, err := content.ParseHash(req.Hash)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Hash = h.String()
	}
	if len(content.QueryWords(strings.Join(req.Words, " "))) == 0 && req.Hash == "" {
		http.Error(w, "nothing to search for: give words with letters or digits, or a hash", http.StatusBadRequest)
		return
	}
	es := newEventStream(w)
	done := a.ops.search(r.Context(), req, func(res api.Result) {
		es.send(api.SearchEvent{Result: &res})
	})
	es.send(api.SearchEvent{Done: &done})
}

// serveBrowse is one peer's listing, within req.Timeout (browseTimeout
// by default).
func (a controlAPI) serveBrowse(w http.ResponseWriter, r *http.Request) {
	var req api.BrowseRequest
	if !decodeRequest(w, r, &req) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), cmp.Or(req.Timeout, browseTimeout))
	defer cancel()
	l, err := a.ops.browse(ctx, req.Peer, req.Folder)
	switch {
	case errors.Is(err, ErrUnknownPeer):
		http.Error(w, err.Error(), http.StatusNotFound)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadGateway)
	default:
		writeJSON(w, l)
	}
}

// serveGetFolder is the streaming folder download.
func (a controlAPI) serveGetFolder(w http.ResponseWriter, r *http.Request) {
	var req api.FolderRequest
	if !decodeRequest(w, r, &req) {
		return
	}
	if !filepath.IsAbs(req.OutDir) {
		http.Error(w, "out_dir must be an absolute path", http.StatusBadRequest)
		return
	}
	if req.Peer == "" {
		http.Error(w, "name the peer whose folder to fetch", http.StatusBadRequest)
		return
	}
	streamDownload(w, a.log.With("peer", req.Peer, "folder", req.Folder), func(progress func(api.Progress)) (*api.GetDone, error) {
		return a.ops.getFolder(r.Context(), req, progress)
	})
}
