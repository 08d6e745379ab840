package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/servent-p2p/servent/api"
)

// TestStreamGetAlwaysEnds: whatever the download does, the stream ends
// with exactly one done or error event that says why.
func TestStreamGetAlwaysEnds(t *testing.T) {
	const hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	queued := func(pos int) api.Progress {
		return api.Progress{Total: 10, Sources: 1, Queue: []api.QueuePlace{{Source: "n1", Position: pos, Length: 3}}}
	}
	tests := []struct {
		name      string
		get       getFunc
		wantDone  bool
		wantError string
		wantQueue []int // queue positions seen in progress events
	}{
		{"done", func(_ context.Context, _ api.GetRequest, p func(api.Progress)) (*api.GetDone, error) {
			p(queued(2))
			p(queued(1))
			p(api.Progress{Bytes: 10, Total: 10, Sources: 1})
			return &api.GetDone{Hash: hash}, nil
		}, true, "", []int{2, 1}},
		{"error", func(context.Context, api.GetRequest, func(api.Progress)) (*api.GetDone, error) {
			return nil, errors.New("no peer can serve it")
		}, false, "no peer can serve it", nil},
		{"neither", func(context.Context, api.GetRequest, func(api.Progress)) (*api.GetDone, error) {
			return nil, nil
		}, false, "neither a result nor an error", nil},
		{"panic", func(context.Context, api.GetRequest, func(api.Progress)) (*api.GetDone, error) {
			var m map[string]int
			m["boom"]++
			return nil, nil
		}, false, "internal error in the daemon", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(api.GetRequest{Hash: hash, OutDir: t.TempDir()})
			w := httptest.NewRecorder()
			streamGet(w, httptest.NewRequest(http.MethodPost, api.RouteGet, bytes.NewReader(body)), quiet(), tt.get)
			var (
				finals []api.GetEvent
				queue  []int
			)
			dec := json.NewDecoder(w.Body)
			for dec.More() {
				var ev api.GetEvent
				if err := dec.Decode(&ev); err != nil {
					t.Fatal(err)
				}
				switch {
				case ev.Progress != nil:
					if len(finals) > 0 {
						t.Fatalf("progress after the final event")
					}
					for _, q := range ev.Progress.Queue {
						queue = append(queue, q.Position)
					}
				default:
					finals = append(finals, ev)
				}
			}
			if len(finals) != 1 {
				t.Fatalf("%d final events, want 1: %+v", len(finals), finals)
			}
			if got := finals[0]; (got.Done != nil) != tt.wantDone || !strings.Contains(got.Error, tt.wantError) {
				t.Fatalf("final event %+v, want done=%v error containing %q", got, tt.wantDone, tt.wantError)
			}
			if !slices.Equal(queue, tt.wantQueue) {
				t.Errorf("queue positions streamed %v, want %v (a change of place is never throttled)", queue, tt.wantQueue)
			}
		})
	}
}
