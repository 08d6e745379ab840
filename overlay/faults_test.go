package overlay

import (
	"math"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults("loss=0.05, dup=0.01,reorder=0.1,delay=20ms,jitter=5ms,mlloss=0.02")
	if err != nil {
		t.Fatal(err)
	}
	want := Faults{Loss: 0.05, Dup: 0.01, Reorder: 0.1, Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, MemberlistLoss: 0.02}
	if f != want {
		t.Fatalf("got %+v, want %+v", f, want)
	}
	for _, bad := range []string{"loss", "loss=2", "loss=x", "delay=soon", "drop=0.1", "mlloss=1.5"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) accepted", bad)
		}
	}
	if f, err := ParseFaults(""); err != nil || f.active() {
		t.Fatalf("empty: %+v %v", f, err)
	}
}

func TestFaultInjectorRates(t *testing.T) {
	fi := newFaultInjector(Faults{Loss: 0.2, Dup: 0.1})
	defer fi.close()
	const n = 20000
	sent := 0
	for range n {
		fi.send(nil, func([]byte) { sent++ })
	}
	// Expected copies: 0.8 * (1 + 0.1) = 0.88 per datagram.
	if got := float64(sent) / n; math.Abs(got-0.88) > 0.02 {
		t.Fatalf("copies per datagram %.3f, want 0.88±0.02", got)
	}
}

func TestFaultInjectorMemberlistLoss(t *testing.T) {
	fi := newFaultInjector(Faults{MemberlistLoss: 0.25})
	defer fi.close()
	const n = 20000
	dropped := 0
	for range n {
		if fi.dropMemberlist() {
			dropped++
		}
	}
	if got := float64(dropped) / n; math.Abs(got-0.25) > 0.02 {
		t.Fatalf("memberlist packets dropped %.3f, want 0.25±0.02", got)
	}
}

func TestFaultInjectorDelayAndClose(t *testing.T) {
	fi := newFaultInjector(Faults{Delay: time.Hour})
	fi.send(nil, func([]byte) { t.Error("sent before its delay") })
	fi.close() // drops the pending datagram and joins its goroutine
}
