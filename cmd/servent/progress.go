package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/servent-p2p/servent/api"
)

// getProgress shows a download's progress: a bar with bytes, rate, ETA and
// sources on a terminal, a plain line every few seconds otherwise, and a
// line at once when the download's place in a source's queue changes.
// With events set (--json) queue changes are also written there as
// progress events, one JSON object per line.
type getProgress struct {
	w       io.Writer
	events  io.Writer
	name    string
	tty     bool
	bar     *termBar // on a terminal, once the first progress came
	sources atomic.Int64
	files   atomic.Int64 // a folder download: its files, and how many are done
	filesOK atomic.Int64
	queued  atomic.Pointer[string] // the queue places, as last shown
	last    time.Time
	lastN   int64
}

// queueText describes a download's queue places ("" when not queued).
func queueText(places []api.QueuePlace) string {
	var parts []string
	for _, q := range places {
		s := fmt.Sprintf("queued at position %d of %d on %s", q.Position, q.Length, q.Source)
		if q.WaitSecs > 0 {
			s += fmt.Sprintf(" (about %s)", (time.Duration(q.WaitSecs) * time.Second).String())
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func newGetProgress(w io.Writer, tty bool, name string) *getProgress {
	if name == "" {
		name = "download"
	}
	return &getProgress{w: w, tty: tty, name: name}
}

func (p *getProgress) update(pr api.Progress) {
	p.sources.Store(int64(pr.Sources))
	p.files.Store(int64(pr.Files))
	p.filesOK.Store(int64(pr.FilesDone))
	if q := queueText(pr.Queue); q != p.queuedText() {
		p.queued.Store(&q)
		if p.events != nil {
			json.NewEncoder(p.events).Encode(api.GetEvent{Progress: &pr})
		}
		if !p.tty && q != "" {
			fmt.Fprintf(p.w, "%s: %s\n", p.name, q)
		}
	}
	if p.tty {
		if p.bar == nil {
			p.bar = &termBar{w: p.w, name: p.name}
		}
		p.bar.set(pr.Bytes, pr.Total, time.Now(), p.tail())
		return
	}
	now := time.Now()
	if p.last.IsZero() || now.Sub(p.last) >= 2*time.Second || pr.Bytes == pr.Total && p.lastN != pr.Total {
		rate := 0.0
		if !p.last.IsZero() {
			rate = float64(pr.Bytes-p.lastN) / now.Sub(p.last).Seconds()
		}
		fmt.Fprintf(p.w, "%s: %s of %s (%.0f%%), %s/s, %s\n", p.name,
			humanBytes(pr.Bytes), humanBytes(pr.Total), 100*float64(pr.Bytes)/float64(max(pr.Total, 1)),
			humanBytes(int64(rate)), p.counts())
		p.last, p.lastN = now, pr.Bytes
	}
}

// tail is the end of the bar: the queue places while queued, else counts.
func (p *getProgress) tail() string {
	if q := p.queuedText(); q != "" {
		return q
	}
	return p.counts()
}

// counts is the bar's tail: files done of a folder download, else the
// sources of a file.
func (p *getProgress) counts() string {
	if n := p.files.Load(); n > 0 {
		return fmt.Sprintf("%d/%d files", p.filesOK.Load(), n)
	}
	return fmt.Sprintf("%d sources", p.sources.Load())
}

// queuedText returns the queue places last shown.
func (p *getProgress) queuedText() string {
	if q := p.queued.Load(); q != nil {
		return *q
	}
	return ""
}

// finish draws the bar a last time, complete or as it stopped.
func (p *getProgress) finish(ok bool) {
	if p.bar != nil {
		p.bar.end(ok, p.tail())
	}
}
