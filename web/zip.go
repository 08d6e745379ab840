package web

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/internal/names"
)

// Folder .zip limits (the size limits are Config.ZipMaxFiles and
// Config.ZipMaxBytes).
const (
	// zipAhead is how many files after the one being streamed are fetched
	// meanwhile.
	zipAhead = 3
	// maxZips is how many folder .zips this node streams at once.
	maxZips = 2
	// zipRetries bounds the retries of one file whose fetch found the node
	// busy, or whose cached copy was evicted before it was opened.
	zipRetries = 5
)

// zipHref is the page's link to a peer's folder as one .zip.
func zipHref(peer, folder string) string {
	v := url.Values{"peer": {peer}}
	if folder != "" {
		v.Set("dir", folder)
	}
	return (&url.URL{Path: "/zip", RawQuery: v.Encode()}).String()
}

// zipRefusal returns why l's folder is too big for one .zip (the message
// the page shows instead of the link), or "".
func (s *Server) zipRefusal(l api.Listing) string {
	total := int64(0)
	for _, f := range l.Files {
		total += f.Size
	}
	if len(l.Files) <= s.cfg.ZipMaxFiles && total <= s.cfg.ZipMaxBytes {
		return ""
	}
	return fmt.Sprintf("This folder has %d files (%s), more than this page puts in one .zip (%d files, %s). "+
		"On a computer, download it with: servent get %s:%s",
		len(l.Files), humanSize(total), s.cfg.ZipMaxFiles, humanSize(s.cfg.ZipMaxBytes), names.Display(l.Peer.Name), names.Display(l.Folder))
}

// zipEntry is one file of a folder .zip.
type zipEntry struct {
	name string // path in the archive: the folder's name, then its path in the folder
	size int64
	hash string
}

// zipPlan lays out the files of l's folder in a .zip the way
// `servent get PEER:FOLDER` saves them (Listing.Layout, below the
// folder's name), sorted by path. It returns the entries and the listed
// paths left out, for the log.
func zipPlan(l api.Listing) (entries []zipEntry, skipped []string) {
	files, skipped := l.Layout()
	root := l.RootName()
	for _, f := range files {
		entries = append(entries, zipEntry{name: root + "/" + f.Rel, size: f.Size, hash: f.Hash.String()})
	}
	slices.SortFunc(entries, func(a, b zipEntry) int { return strings.Compare(a.name, b.name) })
	return entries, skipped
}

// serveZip streams a peer's folder (every file below it, as the browse
// view lists it) as one .zip. The listing costs the network like a browse
// and is admitted like one; every file is then fetched through the node
// like a single download (verified against its content hash), hashed
// again here, and only then written. A failure after the first byte
// aborts the connection, so the browser shows a failed download rather
// than a complete-looking archive.
func (s *Server) serveZip(w http.ResponseWriter, r *http.Request) {
	data, peer, folder := s.browsePage(w, r)
	if peer == "" {
		data.Error = "That link names no peer: go back to the peers and pick one."
		s.render(w, http.StatusBadRequest, "browse", data)
		return
	}
	select {
	case s.zipSlots <- struct{}{}:
		defer func() { <-s.zipSlots }()
	default:
		w.Header().Set("Retry-After", "30")
		data.Error = "This node is busy sending other folders: try again in a minute, or download the files one by one."
		s.render(w, http.StatusServiceUnavailable, "browse", data)
		return
	}
	l, ok := s.listFolder(w, r, data, peer, folder)
	if !ok {
		return
	}
	if msg := s.zipRefusal(l); msg != "" {
		data.Error = msg
		s.render(w, http.StatusForbidden, "browse", data)
		return
	}
	entries, skipped := zipPlan(l)
	if len(skipped) > 0 {
		s.log.Info("web zip leaves out files without a safe name", "peer", names.Display(peer), "folder", names.Display(folder), "files", skipped)
	}
	if len(entries) == 0 {
		data.Error = "None of the files of this folder has a name that can be saved safely: download them with servent on a computer."
		s.render(w, http.StatusBadGateway, "browse", data)
		return
	}
	z := &zipRun{s: s, ctx: r.Context(), entries: entries, peer: l.Peer, rc: http.NewResponseController(w), now: time.Now()}
	first, err := z.open(0)
	if err != nil {
		s.log.Info("web zip failed", "peer", names.Display(peer), "folder", names.Display(folder), "err", err)
		data.Error = "The folder could not be fetched from the network: " + names.Display(err.Error()) + ". Try again later."
		s.render(w, http.StatusBadGateway, "browse", data)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/zip")
	hd.Set("Content-Disposition", contentDisposition(l.RootName()+".zip"))
	w.WriteHeader(http.StatusOK)
	if err := z.write(&idleWriter{ResponseWriter: w, rc: z.rc}, first); err != nil {
		s.log.Warn("web zip aborted: the phone gets a failed download", "peer", names.Display(peer), "folder", names.Display(folder), "err", err)
		panic(http.ErrAbortHandler) // no final chunk: never a complete-looking .zip
	}
}

// zipRun is one folder .zip being streamed.
type zipRun struct {
	s       *Server
	ctx     context.Context
	entries []zipEntry
	peer    api.Source
	rc      *http.ResponseController
	now     time.Time // every entry's modification time
}

// write streams the archive: first (entry 0, checked), then every other
// entry, then the central directory. Any error leaves the archive
// without its central directory.
func (z *zipRun) write(w io.Writer, first *zipFile) error {
	zw := zip.NewWriter(w)
	f := first
	for i, e := range z.entries {
		if i > 0 {
			var err error
			if f, err = z.open(i); err != nil {
				return err
			}
		}
		err := f.store(zw, e.name, z.now)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
	}
	return zw.Close()
}

// zipFile is an entry's file, opened and checked.
type zipFile struct {
	*os.File
	size int64
	crc  uint32
}

// checkZipFile hashes f (it must hash to e.hash and have e.size bytes:
// nothing of it is written otherwise) and takes its CRC-32 in the same
// read.
func checkZipFile(f *os.File, e zipEntry) (*zipFile, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() != e.size {
		return nil, fmt.Errorf("%s has %d bytes, the listing said %d", e.name, st.Size(), e.size)
	}
	crc := crc32.NewIEEE()
	h, _, err := content.HashReader(io.TeeReader(f, crc), e.size)
	if err != nil {
		return nil, err
	}
	if h.String() != e.hash {
		return nil, fmt.Errorf("%s: its bytes hash to %s, not %s", e.name, h, e.hash)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return &zipFile{File: f, size: e.size, crc: crc.Sum32()}, nil
}

// store writes f uncompressed as name. Below 4 GiB its sizes and CRC go
// in the local header, which streaming unzippers (Java's ZipInputStream
// on phones) need for stored entries; a bigger file gets a zip64 data
// descriptor from archive/zip.
func (f *zipFile) store(zw *zip.Writer, name string, modified time.Time) error {
	fh := &zip.FileHeader{Name: name, Method: zip.Store, Modified: modified}
	var dst io.Writer
	var err error
	if f.size < math.MaxUint32 {
		fh.CRC32, fh.CompressedSize64, fh.UncompressedSize64 = f.crc, uint64(f.size), uint64(f.size)
		dst, err = zw.CreateRaw(fh)
	} else {
		dst, err = zw.CreateHeader(fh)
	}
	if err != nil {
		return err
	}
	n, err := io.Copy(dst, f)
	if err == nil && n != f.size {
		err = fmt.Errorf("%d bytes read, %d expected", n, f.size)
	}
	return err
}

// request is the fetch of entry i, from the peer listed.
func (z *zipRun) request(i int) api.GetRequest {
	e := z.entries[i]
	return api.GetRequest{Hash: e.hash, Name: names.Base(e.name), Sources: []api.Source{z.peer}}
}

// open returns entry i's file, fetched through the node (verified),
// opened and checked (checkZipFile), after starting the fetches of the
// next zipAhead entries. It waits while the node is busy and fetches
// again a file evicted from the cache before it was opened, both at most
// zipRetries times.
func (z *zipRun) open(i int) (*zipFile, error) {
	from := i + zipAhead // the others were started with the entries before
	if i == 0 {
		from = 1
	}
	for j := from; j <= i+zipAhead && j < len(z.entries); j++ {
		z.s.flightFor(z.request(j)) // busy: fetched in its turn
	}
	z.rc.SetWriteDeadline(time.Now().Add(z.s.cfg.FetchTimeout + streamIdle))
	for attempt := 0; ; attempt++ {
		path, err := z.s.fetch(z.ctx, z.request(i))
		if errors.Is(err, errBusy) && attempt < zipRetries {
			sleepCtx(z.ctx, time.Second)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", z.entries[i].name, err)
		}
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) && attempt < zipRetries {
			continue
		}
		if err != nil {
			return nil, err
		}
		zf, err := checkZipFile(f, z.entries[i])
		if err != nil {
			f.Close()
		}
		return zf, err
	}
}
