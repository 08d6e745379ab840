package transfer

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// PlainInterval is how often a ProgressPrinter writes a plain line.
const PlainInterval = 2 * time.Second

// ProgressPrinter shows one download's progress: an mpb progress bar
// (bytes, rate, ETA, sources) on a terminal, or a plain line every
// PlainInterval and one at the end otherwise. Pass its Update method as
// Request.Progress and call Close when Get returns. Safe for concurrent use.
type ProgressPrinter struct {
	w     io.Writer
	isTTY bool
	now   func() time.Time

	mu      sync.Mutex
	start   time.Time
	last    time.Time
	base    int64 // bytes already done when the first update came (resumed)
	p       *mpb.Progress
	bar     *mpb.Bar
	sources int
	closed  bool
}

// NewProgressPrinter returns a printer writing to w; isTTY selects the bar.
func NewProgressPrinter(w io.Writer, isTTY bool) *ProgressPrinter {
	return &ProgressPrinter{w: w, isTTY: isTTY, now: time.Now}
}

// Update reports one progress snapshot. It does not block on the terminal.
func (pp *ProgressPrinter) Update(p Progress) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.closed {
		return
	}
	now := pp.now()
	if pp.start.IsZero() {
		pp.start, pp.last, pp.base = now, now, p.Done
	}
	pp.sources = p.Sources
	if pp.isTTY {
		pp.updateBar(p)
		return
	}
	if p.Finished || now.Sub(pp.last) >= PlainInterval {
		pp.last = now
		fmt.Fprintln(pp.w, plainLine(p, pp.base, now.Sub(pp.start)))
	}
}

// updateBar creates the bar on first use and moves it. Called with mu held.
func (pp *ProgressPrinter) updateBar(p Progress) {
	if pp.bar == nil {
		pp.p = mpb.New(mpb.WithOutput(pp.w), mpb.WithAutoRefresh(), mpb.WithWidth(100), mpb.WithRefreshRate(150*time.Millisecond))
		pp.bar = pp.p.New(p.Size, mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name(p.Name, decor.WCSyncSpaceR), decor.CountersKibiByte("% .1f / % .1f")),
			mpb.AppendDecorators(
				decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncSpace),
				decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO),
				decor.Any(func(decor.Statistics) string { return fmt.Sprintf(" %d sources", pp.sourceCount()) }),
			))
		// Resumed bytes are not part of this run's rate.
		pp.bar.SetCurrent(p.Done)
		pp.bar.DecoratorAverageAdjust(time.Now())
		return
	}
	pp.bar.SetCurrent(p.Done)
}

// sourceCount is read by the bar's render goroutine.
func (pp *ProgressPrinter) sourceCount() int {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	return pp.sources
}

// Close stops the bar (completing or aborting it) and waits until it is
// drawn. Safe to call twice.
func (pp *ProgressPrinter) Close() {
	pp.mu.Lock()
	if pp.closed {
		pp.mu.Unlock()
		return
	}
	pp.closed = true
	bar, p := pp.bar, pp.p
	pp.mu.Unlock()
	if bar != nil {
		if !bar.Completed() {
			bar.Abort(false)
		}
		p.Wait()
	}
}

// plainLine formats a progress line for logs and pipes.
// base is the byte count the rate is measured from.
func plainLine(p Progress, base int64, elapsed time.Duration) string {
	pct := 100.0
	if p.Size > 0 {
		pct = 100 * float64(p.Done) / float64(p.Size)
	}
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(p.Done-base) / s
	}
	state := fmt.Sprintf("%d sources", p.Sources)
	if p.Finished {
		state = "done in " + elapsed.Round(time.Millisecond).String()
	} else if rate > 0 {
		state += ", ETA " + (time.Duration(float64(p.Size-p.Done) / rate * float64(time.Second))).Round(time.Second).String()
	}
	return fmt.Sprintf("%s: %s / %s (%.0f%%), %s/s, %s", p.Name,
		humanize.IBytes(uint64(p.Done)), humanize.IBytes(uint64(p.Size)), pct, humanize.IBytes(uint64(rate)), state)
}
