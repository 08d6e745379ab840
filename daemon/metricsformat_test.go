package daemon

import (
	"strings"
	"testing"
)

func TestWriteFamily(t *testing.T) {
	var b strings.Builder
	writeFamily(&b, "servent_x_total", "Xs by event.", "counter", sample{`event="sent"`, 3}, sample{`event="received"`, 0})
	writeFamily(&b, "servent_members", "Members.", "gauge", sample{"", 100})
	want := `# HELP servent_x_total Xs by event.
# TYPE servent_x_total counter
servent_x_total{event="sent"} 3
servent_x_total{event="received"} 0
# HELP servent_members Members.
# TYPE servent_members gauge
servent_members 100
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
