package main

import (
	"fmt"
	"io"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/servent-p2p/servent/api"
)

// getProgress shows a download's progress: a bar with bytes, rate, ETA and
// sources on a terminal, a plain line every few seconds otherwise.
type getProgress struct {
	w       io.Writer
	name    string
	tty     bool
	bars    *mpb.Progress
	bar     *mpb.Bar
	sources int
	last    time.Time
	lastN   int64
}

func newGetProgress(w io.Writer, tty bool, name string) *getProgress {
	if name == "" {
		name = "download"
	}
	return &getProgress{w: w, tty: tty, name: name}
}

func (p *getProgress) update(pr api.Progress) {
	p.sources = pr.Sources
	if p.tty {
		if p.bar == nil {
			p.bars = mpb.New(mpb.WithOutput(p.w), mpb.WithWidth(40))
			p.bar = p.bars.New(pr.Total, mpb.BarStyle(),
				mpb.PrependDecorators(decor.Name(p.name+" "), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
				mpb.AppendDecorators(
					decor.EwmaSpeed(decor.SizeB1024(0), " % .1f", 30),
					decor.Name(" ETA "), decor.EwmaETA(decor.ET_STYLE_GO, 30),
					decor.Any(func(decor.Statistics) string { return fmt.Sprintf(" [%d sources]", p.sources) }),
				))
		}
		p.bar.EwmaSetCurrent(pr.Bytes, time.Since(p.last))
		p.last = time.Now()
		return
	}
	now := time.Now()
	if p.last.IsZero() || now.Sub(p.last) >= 2*time.Second || pr.Bytes == pr.Total {
		rate := 0.0
		if !p.last.IsZero() {
			rate = float64(pr.Bytes-p.lastN) / now.Sub(p.last).Seconds()
		}
		fmt.Fprintf(p.w, "%s: %s of %s (%.0f%%), %s/s, %d sources\n", p.name,
			humanBytes(pr.Bytes), humanBytes(pr.Total), 100*float64(pr.Bytes)/float64(max(pr.Total, 1)),
			humanBytes(int64(rate)), pr.Sources)
		p.last, p.lastN = now, pr.Bytes
	}
}

// finish completes or aborts the bar and waits for it to render.
func (p *getProgress) finish(ok bool) {
	if p.bar == nil {
		return
	}
	if ok {
		p.bar.SetTotal(-1, true)
	} else {
		p.bar.Abort(false)
	}
	p.bars.Wait()
}
