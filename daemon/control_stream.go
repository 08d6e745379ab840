package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
)

// progressEvery is the least time between two progress events of a
// download stream; a change of queue place is sent at once.
const progressEvery = 100 * time.Millisecond

// getFunc runs one download: progress is called (never concurrently) as
// it advances; it returns the final record or why there is none.
type getFunc func(ctx context.Context, req api.GetRequest, progress func(api.Progress)) (*api.GetDone, error)

// errNoResult is what a download that returned neither a result nor an
// error is reported as: a bug, never a resumable condition.
var errNoResult = errors.New("the download ended with neither a result nor an error")

// streamGet serves the control API's streaming download with get, after
// checking the request (see streamDownload).
func streamGet(w http.ResponseWriter, r *http.Request, log *slog.Logger, get getFunc) {
	var req api.GetRequest
	if !decodeRequest(w, r, &req) {
		return
	}
	if _, err := content.ParseHash(req.Hash); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !filepath.IsAbs(req.OutDir) {
		http.Error(w, "out_dir must be an absolute path", http.StatusBadRequest)
		return
	}
	streamDownload(w, log.With("hash", req.Hash), func(progress func(api.Progress)) (*api.GetDone, error) {
		return get(r.Context(), req, progress)
	})
}

// streamDownload writes the events of the download run starts: progress
// (at most every progressEvery, at once for a new queue place or the
// end), then exactly one done or error event, whatever run does: returns
// an error, returns nothing, or panics (the panic is logged with its stack
// and reported to the client, not left to net/http).
func streamDownload(w http.ResponseWriter, log *slog.Logger, run func(progress func(api.Progress)) (*api.GetDone, error)) {
	es := newEventStream(w)
	defer func() {
		if p := recover(); p != nil {
			log.Error("download handler panicked (a bug)", "panic", p, "stack", string(debug.Stack()))
			es.send(api.GetEvent{Error: fmt.Sprintf("internal error in the daemon (a bug; its log has the stack): %v", p)})
		}
	}()
	var (
		lastSent  time.Time
		lastQueue []api.QueuePlace
	)
	done, err := run(func(p api.Progress) {
		if time.Since(lastSent) < progressEvery && slices.Equal(p.Queue, lastQueue) && p.Bytes < p.Total {
			return
		}
		lastSent, lastQueue = time.Now(), p.Queue
		es.send(api.GetEvent{Progress: &p})
	})
	switch {
	case err != nil:
		log.Info("download failed", "err", err)
		es.send(api.GetEvent{Error: err.Error()})
	case done == nil:
		log.Error("download ended without a result (a bug)")
		es.send(api.GetEvent{Error: errNoResult.Error() + " (a bug; see the daemon's log)"})
	default:
		es.send(api.GetEvent{Done: done})
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// eventStream writes one JSON object per line and flushes each.
type eventStream struct {
	w   http.ResponseWriter
	enc *json.Encoder
	rc  *http.ResponseController
}

func newEventStream(w http.ResponseWriter) *eventStream {
	w.Header().Set("Content-Type", "application/x-ndjson")
	return &eventStream{w: w, enc: json.NewEncoder(w), rc: http.NewResponseController(w)}
}

func (s *eventStream) send(v any) error {
	if err := s.enc.Encode(v); err != nil {
		return err
	}
	return s.rc.Flush()
}

func decodeRequest(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
