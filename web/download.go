package web

import (
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/internal/names"
)

// serveDownload fetches a file by content hash through the node (verified,
// multi-source), then serves it with Range support. The only thing of the
// request that selects a file is the hash; the name parameter only names
// the download.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	h, err := content.ParseHash(r.PathValue("hash"))
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "That download link is broken (not a content hash).")
		return
	}
	hash := h.String()
	seen, fromPage := s.recent.get(hash)
	if !fromPage && !s.searchLimit.allow(clientIP(r), time.Now()) {
		// A hash no page search showed costs a network search: limited
		// like one, so random hashes cannot flood the network.
		w.Header().Set("Retry-After", "5")
		s.renderError(w, r, http.StatusTooManyRequests, "Too many requests from this device: wait a few seconds, then try again.")
		return
	}
	name := names.Base(r.URL.Query().Get("name"))
	if name == "" {
		name = names.Base(seen.Name)
	}
	if name == "" {
		name = hash
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Now().Add(s.cfg.FetchTimeout + streamIdle))
	path, err := s.fetch(r.Context(), api.GetRequest{Hash: hash, Name: name, Sources: seen.Sources})
	if errors.Is(err, errBusy) {
		w.Header().Set("Retry-After", "30")
		s.renderError(w, r, http.StatusServiceUnavailable, "This node is busy fetching other files: try again in a minute.")
		return
	}
	if err != nil {
		s.log.Info("web download failed", "hash", hash, "err", err)
		s.renderError(w, r, http.StatusBadGateway, "The file could not be fetched from the network: "+err.Error()+". Try again later, or search again.")
		return
	}
	f, err := os.Open(path)
	if err != nil {
		s.log.Error("opening a fetched file", "path", path, "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "The fetched file could not be opened on the node.")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		s.renderError(w, r, http.StatusInternalServerError, "The fetched file could not be opened on the node.")
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", contentType(name))
	hd.Set("Content-Disposition", contentDisposition(name))
	hd.Set("ETag", `"`+hash+`"`) // content-addressed: a strong validator for If-Range
	hd.Set("Cache-Control", "private, max-age=86400")
	http.ServeContent(&idleWriter{ResponseWriter: w, rc: rc}, r, name, st.ModTime(), f)
}

// renderError shows the page with an error message.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	data := s.basePage(w, r)
	data.Error = msg
	s.render(w, status, "page", data)
}

// idleWriter pushes the write deadline forward on every write: a download
// may last as long as it keeps moving, but a stalled client is cut after
// streamIdle.
type idleWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (w *idleWriter) Write(p []byte) (int, error) {
	w.rc.SetWriteDeadline(time.Now().Add(streamIdle))
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *idleWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
