package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// termBar draws a download's progress on a terminal as one line redrawn in
// place: the name, bytes done of the total, a bar, the rate (a moving
// average), the time left and a tail (sources, files or queue places).
// Not safe for concurrent use.
type termBar struct {
	w     io.Writer
	name  string
	bytes int64
	total int64
	rate  float64   // bytes per second, moving average
	at    time.Time // of the last sample
	drawn time.Time // when the line was last drawn
}

const (
	barWidth    = 40                     // cells of the bar itself
	barRedraw   = 150 * time.Millisecond // at most this often
	barRateKeep = 29.0 / 31              // share of the old rate kept per sample (a 30-sample average)
)

// set records that bytes of total are done at now, and redraws the line
// with tail when it was not drawn for a while.
func (b *termBar) set(bytes, total int64, now time.Time, tail string) {
	if !b.at.IsZero() && now.After(b.at) {
		r := float64(bytes-b.bytes) / now.Sub(b.at).Seconds()
		if b.rate == 0 {
			b.rate = r
		} else {
			b.rate = barRateKeep*b.rate + (1-barRateKeep)*r
		}
	}
	b.bytes, b.total, b.at = bytes, total, now
	if now.Sub(b.drawn) >= barRedraw {
		b.draw(tail)
		b.drawn = now
	}
}

// end draws the line a last time and ends it: complete, or as it stopped.
func (b *termBar) end(ok bool, tail string) {
	if ok {
		b.bytes = max(b.bytes, b.total)
	}
	b.draw(tail)
	fmt.Fprintln(b.w)
}

// draw writes the line over the previous one.
func (b *termBar) draw(tail string) {
	fmt.Fprintf(b.w, "\r%s\x1b[K", b.line(tail))
}

// line is the text of the bar.
func (b *termBar) line(tail string) string {
	done := barWidth
	if b.total > 0 {
		done = int(min(b.bytes, b.total) * barWidth / b.total)
	}
	bar := strings.Repeat("=", done)
	if done < barWidth {
		bar += ">" + strings.Repeat("-", barWidth-done-1)
	}
	eta := "-"
	if b.rate > 0 && b.bytes < b.total {
		eta = time.Duration(float64(b.total-b.bytes) / b.rate * float64(time.Second)).Round(time.Second).String()
	} else if b.bytes >= b.total {
		eta = "0s"
	}
	return fmt.Sprintf("%s %s / %s [%s] %s/s ETA %s [%s]", b.name, humanBytes(b.bytes), humanBytes(b.total),
		bar, humanBytes(int64(b.rate)), eta, tail)
}
