package transfer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Active queueing headers (Gnutella's X-Queue, as in gtk-gnutella and
// LimeWire). A downloader that can wait in a queue sends
// "X-Queue: 0.1" with every request; a server with every upload slot
// taken answers 503 with
//
//	X-Queue: position=2,length=5,limit=4,pollMin=1,pollMax=10,eta=12
//
// position 1 is next; limit is the server's upload slots; the downloader
// asks again no sooner than pollMin and no later than pollMax seconds,
// or loses its place; eta (our addition) is the estimated wait in
// seconds. Unknown keys are ignored, every key is optional.
const (
	// HeaderQueue is the X-Queue header, in requests and 503 answers.
	HeaderQueue = "X-Queue"
	// QueueVersion is what a queue-capable downloader sends in X-Queue.
	QueueVersion = "0.1"
)

// maxQueueValue bounds every number in an X-Queue header.
const maxQueueValue = 1 << 20

// queueInfo is one X-Queue answer.
type queueInfo struct {
	Position, Length, Limit int
	PollMin, PollMax        time.Duration
	ETA                     time.Duration
}

// String formats q as an X-Queue value.
func (q queueInfo) String() string {
	return fmt.Sprintf("position=%d,length=%d,limit=%d,pollMin=%d,pollMax=%d,eta=%d",
		q.Position, q.Length, q.Limit, int(q.PollMin/time.Second), int(q.PollMax/time.Second), int(q.ETA.Round(time.Second)/time.Second))
}

// parseQueueInfo parses an X-Queue answer. It needs a position of at
// least 1; missing poll hints are left zero.
func parseQueueInfo(v string) (queueInfo, error) {
	var q queueInfo
	for part := range strings.SplitSeq(v, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n < 0 || n > maxQueueValue {
			return queueInfo{}, fmt.Errorf("X-Queue %s=%q: not a number in 0..%d", key, val, maxQueueValue)
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "position":
			q.Position = n
		case "length":
			q.Length = n
		case "limit":
			q.Limit = n
		case "pollmin":
			q.PollMin = time.Duration(n) * time.Second
		case "pollmax":
			q.PollMax = time.Duration(n) * time.Second
		case "eta":
			q.ETA = time.Duration(n) * time.Second
		}
	}
	if q.Position < 1 {
		return queueInfo{}, fmt.Errorf("X-Queue %q: no position", v)
	}
	return q, nil
}
