package testutil

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeT records Fatalf instead of stopping the test (so Eventually goes on
// polling: the conditions below end once it failed).
type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
}

func TestEventuallyReturnsOnceTrue(t *testing.T) {
	calls := 0
	var ft fakeT
	Eventually(&ft, time.Minute, "three calls", func() bool { calls++; return calls == 3 })
	if ft.failed != "" || calls != 3 {
		t.Fatalf("calls %d, failure %q", calls, ft.failed)
	}
}

func TestEventuallyFailsAtTimeout(t *testing.T) {
	var ft fakeT
	start := time.Now()
	Eventually(&ft, 50*time.Millisecond, "never", func() bool { return ft.failed != "" })
	if !strings.Contains(ft.failed, "never") {
		t.Fatalf("failure %q does not name what it waited for", ft.failed)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Fatalf("gave up after %v, want about 50ms", d)
	}
}
