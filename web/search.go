package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/browse"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/internal/names"
)

// serveIndex shows the page, and runs the search when q is given.
func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	data := s.basePage(w, r)
	q := r.URL.Query().Get("q")
	if len(q) > maxQueryLen {
		data.Error = fmt.Sprintf("That search is too long: use at most %d characters.", maxQueryLen)
		s.render(w, http.StatusBadRequest, "page", data)
		return
	}
	data.Query = q
	if strings.TrimSpace(q) == "" {
		s.render(w, http.StatusOK, "page", data)
		return
	}
	req, ok := searchRequest(q, s.cfg.SearchTimeout)
	if !ok {
		data.Error = "Type at least one word (letters or digits) of the file name."
		s.render(w, http.StatusBadRequest, "page", data)
		return
	}
	if !s.admitNetworkRequest(w, r, "page", data, "searches") {
		return
	}
	results, done := s.search(r.Context(), req)
	<-s.searchSlots
	s.recent.add(results)
	data.Searched = true
	for _, res := range results {
		data.Results = append(data.Results, viewOf(res))
	}
	data.Summary = summary(len(results), done)
	data.Warning = done.Warning
	s.render(w, http.StatusOK, "page", data)
}

// searchRequest turns the query box into a search: a content hash (hex or
// urn:blake3:) searches by hash, anything else by keywords.
func searchRequest(q string, timeout time.Duration) (api.SearchRequest, bool) {
	req := api.SearchRequest{Timeout: timeout, Max: maxResults}
	if h, err := content.ParseHash(q); err == nil {
		req.Hash = h.String()
		return req, true
	}
	req.Words = content.QueryWords(q)
	return req, len(req.Words) > 0
}

// search runs one backend search and returns its results grouped by hash,
// ranked (api.SortResults: exact word matches first, then most sources).
func (s *Server) search(ctx context.Context, req api.SearchRequest) ([]api.Result, api.SearchDone) {
	ctx, cancel := context.WithTimeout(ctx, req.Timeout+2*time.Second)
	defer cancel()
	var mu sync.Mutex
	byHash := make(map[string]api.Result)
	done := s.backend.Search(ctx, req, func(res api.Result) {
		mu.Lock()
		defer mu.Unlock()
		if _, seen := byHash[res.Hash]; seen || len(byHash) < maxResults {
			byHash[res.Hash] = res
		}
	})
	mu.Lock()
	defer mu.Unlock()
	out := make([]api.Result, 0, len(byHash))
	for _, res := range byHash {
		out = append(out, res)
	}
	api.SortResults(out)
	return out, done
}

// viewOf prepares a result for the template (which escapes every field).
func viewOf(res api.Result) resultView {
	peers := make([]string, 0, len(res.Sources))
	partial := 0
	for _, src := range res.Sources {
		peers = append(peers, src.Name)
		if src.Partial {
			partial++
		}
	}
	v := resultView{
		Name:    names.Display(res.Name),
		Size:    humanSize(res.Size),
		Hash:    res.Hash,
		Sources: len(res.Sources),
		Partial: partial,
		Names:   names.Display(strings.Join(peers, ", ")),
		Href:    downloadHref(res.Hash, res.Name),
	}
	if folder := browse.FolderOf(res.Name); folder != "" && len(res.Sources) > 0 {
		v.Folder, v.FolderHref = names.Display(folder), browseHref(res.Sources[0].Name, folder)
	}
	return v
}

// summary is the line above the results.
func summary(n int, done api.SearchDone) string {
	secs := done.Elapsed.Seconds()
	switch n {
	case 0:
		return fmt.Sprintf("No file found in %.1f s. Try other words, or fewer.", secs)
	case 1:
		return fmt.Sprintf("1 file found in %.1f s.", secs)
	}
	return fmt.Sprintf("%d files found in %.1f s.", n, secs)
}

// acquire takes a slot of sem, waiting at most wait.
func acquire(ctx context.Context, sem chan struct{}, wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case sem <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// admitNetworkRequest applies the limits of what costs the network (a
// search, a browse): per device, and a few at once on this node. When it
// refuses it renders template with the reason and returns false; when it
// admits, the caller holds a slot of s.searchSlots and gives it back.
func (s *Server) admitNetworkRequest(w http.ResponseWriter, r *http.Request, template string, data pageData, what string) bool {
	if !s.searchLimit.allow(clientIP(r), time.Now()) {
		w.Header().Set("Retry-After", "5")
		data.Error = "Too many " + what + " from this device: wait a few seconds, then try again."
		s.render(w, http.StatusTooManyRequests, template, data)
		return false
	}
	if !acquire(r.Context(), s.searchSlots, 5*time.Second) {
		w.Header().Set("Retry-After", "5")
		data.Error = "This node is busy with other " + what + ": try again in a few seconds."
		s.render(w, http.StatusServiceUnavailable, template, data)
		return false
	}
	return true
}
