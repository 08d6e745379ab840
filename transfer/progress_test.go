package transfer

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressPlain(t *testing.T) {
	var buf bytes.Buffer
	pp := NewProgressPrinter(&buf, false)
	now := time.Unix(1000, 0)
	pp.now = func() time.Time { return now }
	const mib = 1 << 20
	steps := []struct {
		at   time.Duration
		done int64
		fin  bool
	}{{0, 0, false}, {time.Second, 10 * mib, false}, {2 * time.Second, 20 * mib, false}, {3 * time.Second, 30 * mib, false}, {4 * time.Second, 40 * mib, true}}
	for _, s := range steps {
		now = time.Unix(1000, 0).Add(s.at)
		pp.Update(Progress{Name: "f.iso", Size: 40 * mib, Done: s.done, Sources: 3, Finished: s.fin})
	}
	pp.Close()
	pp.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		"f.iso: 20 MiB / 40 MiB (50%), 10 MiB/s, 3 sources, ETA 2s",
		"f.iso: 40 MiB / 40 MiB (100%), 10 MiB/s, done in 4s",
	}
	if len(lines) != len(want) {
		t.Fatalf("lines %q, want %q", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d: %q, want %q", i, lines[i], want[i])
		}
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	pp := NewProgressPrinter(&buf, true)
	for i := int64(0); i <= 10; i++ {
		pp.Update(Progress{Name: "f.iso", Size: 10 << 20, Done: i << 20, Sources: 2, Finished: i == 10})
	}
	pp.Close()
	if out := buf.String(); !strings.Contains(out, "f.iso") || !strings.Contains(out, "2 sources") {
		t.Errorf("bar output %q", out)
	}
}
