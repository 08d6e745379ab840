package transfer

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/servent-p2p/servent/content"
)

// chunkBufs holds the buffers partial chunks are read into for serving.
var chunkBufs = sync.Pool{New: func() any { b := make([]byte, content.ChunkSize); return &b }}

// exchangeAlts is the server's side of the download mesh: a requester
// that names its own key in X-Alt is remembered as a holder of h (and
// returned: a swarm member), and the answer names the other holders
// known (never the requester itself).
func (s *Server) exchangeAlts(w http.ResponseWriter, r *http.Request, h content.Hash) (member Key) {
	if s.cfg.Swarm == nil {
		return Key{}
	}
	var requester Key
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		requester = KeyFingerprint(r.TLS.PeerCertificates[0])
	}
	now := time.Now()
	if requester != (Key{}) {
		for _, k := range parseAlts(r.Header.Get(HeaderAlt)) {
			if k == requester { // only a requester's own key is believed
				s.cfg.Swarm.heard(h, k, now)
				member = k
			}
		}
	}
	if alts := s.cfg.Swarm.holders(h, requester, now); len(alts) > 0 {
		w.Header().Set(HeaderAlt, formatAlts(alts))
	}
	return member
}

// seed is the seeder's side of swarming, for a request of swarm member
// to for a file held whole: a chunk recently sent to another member is
// not sent (416 "not yet", X-Available-Ranges without it) so that it is
// taken from that member. ok false: answered. done must be called with
// the response's writer (nil if nothing was sent) when ok.
func (s *Server) seed(w http.ResponseWriter, r *http.Request, f File, to Key) (ok bool, done func(*countingWriter)) {
	off, n, single := singleRange(r.Header.Get("Range"), f.Size)
	if !single || n > content.ChunkSize || off%content.ChunkSize != 0 {
		return true, func(*countingWriter) {}
	}
	c := int(off / content.ChunkSize)
	ranges, ok := s.cfg.Swarm.handOut(f.Hash, f.Size, c, to, time.Now())
	w.Header().Set(HeaderAvailableRanges, ranges)
	if !ok {
		s.notYet(w, r, f.Size)
		return false, nil
	}
	return true, func(cw *countingWriter) {
		s.cfg.Swarm.sentChunk(f.Hash, c, to, cw != nil && cw.n == n, time.Now())
	}
}

// partialRange checks a request for a file this node is still
// downloading: it must name one range of at most one chunk's size whose
// chunks are all verified here. Otherwise it answers 416 with the ranges
// that are (the "not yet" of partial file sharing) and reports false.
func (s *Server) partialRange(w http.ResponseWriter, r *http.Request, f File, part *activeDownload) (off, n int64, ok bool) {
	have := part.have()
	w.Header().Set(HeaderAvailableRanges, formatRanges(have, f.Size))
	off, n, ok = singleRange(r.Header.Get("Range"), f.Size)
	if ok && n <= content.ChunkSize {
		for c := off / content.ChunkSize; c*content.ChunkSize < off+n; c++ {
			ok = ok && bitSet(have, int(c))
		}
	} else {
		ok = false
	}
	if !ok {
		s.notYet(w, r, f.Size)
	}
	return off, n, ok
}

// notYet answers 416: this node holds only part of the file, and not the
// range asked for (or no single range was asked for).
func (s *Server) notYet(w http.ResponseWriter, r *http.Request, size int64) {
	s.stats.notYet.Add(1)
	w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
	s.refuse(w, r, http.StatusRequestedRangeNotSatisfiable,
		"not yet: this node is still downloading the file and serves only the ranges in "+HeaderAvailableRanges, "not yet")
}

// servePartial sends verified bytes [off, off+n) of a download in
// progress (n is at most one chunk).
func (s *Server) servePartial(w http.ResponseWriter, r *http.Request, part *activeDownload, off, n int64, peer string) {
	bp := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(bp)
	buf := (*bp)[:n]
	ok, err := part.read(buf, off)
	switch {
	case errors.Is(err, errPartialGone):
		s.refuse(w, r, http.StatusNotFound, "not found", "download ended")
		return
	case err != nil:
		s.refuse(w, r, http.StatusInternalServerError, "read error", err.Error())
		return
	case !ok: // cannot happen: verified bits are never cleared while serving
		s.notYet(w, r, part.dl.Size)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+part.dl.Hash.String()+`"`)
	h.Set("X-Content-URN", part.dl.Hash.URN())
	h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, part.dl.Size))
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusPartialContent)
	if r.Method == http.MethodHead {
		return
	}
	cw := s.countingWriter(w)
	s.stats.uploads.Add(1)
	s.stats.partialUploads.Add(1)
	cw.Write(buf)
	s.sent(r, cw, peer)
}
