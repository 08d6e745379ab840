package main

import (
	"strings"
	"testing"
	"time"
)

func TestTermBar(t *testing.T) {
	var out strings.Builder
	b := &termBar{w: &out, name: "map.pdf"}
	t0 := time.Unix(1000, 0)
	b.set(0, 4<<20, t0, "2 sources")
	b.set(1<<20, 4<<20, t0.Add(time.Second), "2 sources")            // 1 MiB/s: drawn
	b.set(1<<20+1, 4<<20, t0.Add(time.Second+time.Millisecond), "x") // too soon: not drawn
	want := "map.pdf 1.0 MiB / 4.0 MiB [==========>-----------------------------] 1.0 MiB/s ETA 3s [2 sources]"
	lines := strings.Split(out.String(), "\r")
	if len(lines) != 3 || strings.TrimSuffix(lines[2], "\x1b[K") != want {
		t.Fatalf("got %q,\nwant 2 lines, the last %q", out.String(), want)
	}
	out.Reset()
	b.end(true, "2 sources")
	if got := out.String(); !strings.Contains(got, "4.0 MiB / 4.0 MiB ["+strings.Repeat("=", barWidth)+"]") || !strings.HasSuffix(got, "\n") {
		t.Errorf("end: %q", got)
	}
}
