package web

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/servent-p2p/servent/internal/names"
)

const (
	maxUploadFiles   = 32
	multipartSlack   = 64 << 10 // headers and boundaries around the files
	maxNumberedNames = 1000
)

// Upload outcomes the page explains.
var (
	errDiskFull    = errors.New("disk full")
	errTooBig      = errors.New("upload too big")
	errNoFreeName  = errors.New("no free name")
	errUploadForm  = errors.New("malformed upload form")
	errNoFileGiven = errors.New("no file chosen")
)

// uploadFile is where an upload is written (an *os.File; tests inject
// failures such as a full disk).
type uploadFile interface {
	io.Writer
	Sync() error
	Close() error
}

// createUploadFile creates a new file in the drop folder, never an
// existing one.
func createUploadFile(root *os.Root, name string) (uploadFile, error) {
	return root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// serveUpload streams a multipart upload into the drop folder. The CSRF
// field must come first (the form puts it before the file input), so no
// byte of a forged upload is written.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	limit := s.cfg.MaxUpload + multipartSlack
	if r.ContentLength > limit {
		s.uploadFailed(w, r, errTooBig, "")
		return
	}
	if !sameOrigin(r) {
		s.renderError(w, r, http.StatusForbidden, capitalise(errCrossOrigin.Error())+".")
		return
	}
	rc := http.NewResponseController(w)
	r.Body = http.MaxBytesReader(w, &idleReader{ReadCloser: r.Body, rc: rc}, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		s.uploadFailed(w, r, errUploadForm, "")
		return
	}
	first, err := mr.NextPart()
	if err != nil || first.FormName() != csrfField {
		s.renderError(w, r, http.StatusForbidden, capitalise(errCSRF.Error())+".")
		return
	}
	token, _ := io.ReadAll(io.LimitReader(first, 256))
	if err := s.checkPost(r, string(token)); err != nil {
		s.renderError(w, r, http.StatusForbidden, capitalise(err.Error())+".")
		return
	}
	var saved []string
	for len(saved) < maxUploadFiles {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.uploadFailed(w, r, uploadErr(err), "")
			return
		}
		if part.FormName() != "file" || part.FileName() == "" {
			continue
		}
		final, err := s.saveUpload(part)
		if err != nil {
			s.uploadFailed(w, r, err, part.FileName())
			return
		}
		s.log.Info("web upload saved", "name", final, "client", clientIP(r).String())
		saved = append(saved, final)
	}
	if len(saved) == 0 {
		s.uploadFailed(w, r, errNoFileGiven, "")
		return
	}
	s.backend.Rescan()
	data := s.basePage(w, r)
	data.Notice = "Saved as " + strings.Join(saved, ", ") + ". The node shares it with the network in a moment."
	s.render(w, http.StatusOK, "page", data)
}

// saveUpload writes one file part to a temporary file in the drop folder,
// syncs it, then gives it a free name ("name (1).ext" if name is taken).
func (s *Server) saveUpload(part *multipart.Part) (string, error) {
	name := names.Base(part.FileName())
	if name == "" {
		name = "upload"
	}
	tmp := ".servent-upload-" + randomToken()[:16] + ".part"
	f, err := s.createFile(s.drop, tmp)
	if err != nil {
		return "", uploadErr(err)
	}
	qw := &quotaWriter{uploadFile: f, q: s.quota}
	discard := func() {
		if s.drop.Remove(tmp) == nil {
			s.quota.release(qw.written)
		}
	}
	n, err := io.Copy(qw, io.LimitReader(part, s.cfg.MaxUpload+1))
	if err == nil && n > s.cfg.MaxUpload {
		err = errTooBig
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		discard()
		return "", uploadErr(err)
	}
	final, err := s.claimName(tmp, name)
	if err != nil {
		discard()
		return "", err
	}
	return final, nil
}

// claimName moves tmp to the first free numbered variant of name. A hard
// link fails on an existing name, so nothing is ever overwritten; on file
// systems without links (FAT sticks) it checks, then renames.
func (s *Server) claimName(tmp, name string) (string, error) {
	for n := range maxNumberedNames {
		cand := numberedName(name, n)
		err := s.drop.Link(tmp, cand)
		if err == nil {
			return cand, s.drop.Remove(tmp)
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if _, serr := s.drop.Lstat(cand); !errors.Is(serr, fs.ErrNotExist) {
			continue
		}
		if err := s.drop.Rename(tmp, cand); err != nil {
			return "", uploadErr(err)
		}
		return cand, nil
	}
	return "", errNoFreeName
}

// uploadErr classifies a write error.
func uploadErr(err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return fmt.Errorf("%w: %w", errTooBig, err)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w: %w", errDiskFull, err)
	}
	return err
}

// uploadFailed explains a failed upload.
func (s *Server) uploadFailed(w http.ResponseWriter, r *http.Request, err error, name string) {
	status, msg := http.StatusInternalServerError, "The upload failed: "+err.Error()+"."
	switch {
	case errors.Is(err, errDiskFull):
		status, msg = http.StatusInsufficientStorage, "The node's disk is full: the file was not saved. Free some space on the node, or upload to another node."
	case errors.Is(err, errQuotaFull):
		status, msg = http.StatusInsufficientStorage, "This node's space for uploads is full ("+humanSize(s.cfg.UploadQuota)+"): the file was not saved. Ask the node's owner to move earlier uploads out of its drop folder, or upload to another node."
	case errors.Is(err, errTooBig):
		status, msg = http.StatusRequestEntityTooLarge, "That upload is too big: this node accepts at most "+humanSize(s.cfg.MaxUpload)+" at once. Nothing was saved."
	case errors.Is(err, errNoFileGiven):
		status, msg = http.StatusBadRequest, "Choose a file to upload first."
	case errors.Is(err, errUploadForm):
		status, msg = http.StatusBadRequest, "The upload could not be read: reload the page and try again."
	case errors.Is(err, errNoFreeName):
		status, msg = http.StatusConflict, "Too many files already have that name in the drop folder: rename the file and try again."
	}
	if name != "" {
		msg = names.Base(name) + ": " + msg
	}
	s.log.Info("web upload failed", "client", clientIP(r).String(), "err", err)
	s.renderError(w, r, status, msg)
}

// idleReader pushes the read deadline forward on every read: an upload may
// last as long as it keeps moving, but a stalled client is cut after
// streamIdle.
type idleReader struct {
	io.ReadCloser
	rc *http.ResponseController
}

func (r *idleReader) Read(p []byte) (int, error) {
	r.rc.SetReadDeadline(time.Now().Add(streamIdle))
	return r.ReadCloser.Read(p)
}
