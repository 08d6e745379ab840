package overlay

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults describes datagram faults injected on the sending side: a testing
// aid for lossy networks (tc netem is not always available). Loss, Dup,
// Reorder, Delay and Jitter apply to every plane except memberlist's;
// MemberlistLoss to memberlist's packets (gossip, probes; its streams go
// through QUIC and are not touched). The zero value injects nothing.
type Faults struct {
	Loss           float64       // probability a datagram is dropped
	Dup            float64       // probability a datagram is sent twice
	Reorder        float64       // probability a datagram is held back by Delay+Jitter behind later ones
	Delay          time.Duration // added to every datagram
	Jitter         time.Duration // uniform extra delay in [0, Jitter)
	MemberlistLoss float64       // probability a memberlist packet is dropped
}

// ParseFaults parses "loss=0.05,dup=0.01,reorder=0.1,delay=20ms,jitter=5ms,mlloss=0.01".
// The empty string gives the zero Faults.
func ParseFaults(s string) (Faults, error) {
	var f Faults
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return f, fmt.Errorf("fault %q: want key=value", kv)
		}
		var err error
		switch k {
		case "loss", "dup", "reorder", "mlloss":
			var p float64
			p, err = strconv.ParseFloat(v, 64)
			if err == nil && (p < 0 || p > 1) {
				err = fmt.Errorf("probability %v outside 0..1", p)
			}
			switch k {
			case "loss":
				f.Loss = p
			case "dup":
				f.Dup = p
			case "mlloss":
				f.MemberlistLoss = p
			default:
				f.Reorder = p
			}
		case "delay":
			f.Delay, err = time.ParseDuration(v)
		case "jitter":
			f.Jitter, err = time.ParseDuration(v)
		default:
			err = fmt.Errorf("unknown fault (use loss, dup, reorder, delay, jitter, mlloss)")
		}
		if err != nil {
			return f, fmt.Errorf("fault %q: %w", kv, err)
		}
	}
	return f, nil
}

// active reports whether f injects anything.
func (f Faults) active() bool { return f != Faults{} }

// faultInjector applies Faults to outgoing datagrams. Safe for concurrent use.
type faultInjector struct {
	f    Faults
	mu   sync.Mutex
	rng  *rand.Rand
	wg   sync.WaitGroup
	done chan struct{}
}

func newFaultInjector(f Faults) *faultInjector {
	return &faultInjector{f: f, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), done: make(chan struct{})}
}

// plan returns how many copies of a datagram to send (0, 1 or 2) and the
// delay before sending them.
func (fi *faultInjector) plan() (copies int, delay time.Duration) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	if fi.rng.Float64() < fi.f.Loss {
		return 0, 0
	}
	copies = 1
	if fi.rng.Float64() < fi.f.Dup {
		copies = 2
	}
	delay = fi.f.Delay
	if fi.f.Jitter > 0 {
		delay += time.Duration(fi.rng.Int64N(int64(fi.f.Jitter)))
	}
	if fi.rng.Float64() < fi.f.Reorder {
		delay += fi.f.Delay + fi.f.Jitter + time.Millisecond
	}
	return copies, delay
}

// dropMemberlist reports whether to drop a memberlist packet.
func (fi *faultInjector) dropMemberlist() bool {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	return fi.rng.Float64() < fi.f.MemberlistLoss
}

// send sends msg through write according to the plan; delayed sends run
// in goroutines that close joins.
func (fi *faultInjector) send(msg []byte, write func([]byte)) {
	copies, delay := fi.plan()
	if copies == 0 {
		return
	}
	if delay <= 0 {
		for range copies {
			write(msg)
		}
		return
	}
	fi.wg.Add(1)
	go func() {
		defer fi.wg.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			for range copies {
				write(msg)
			}
		case <-fi.done:
		}
	}()
}

// close drops the datagrams still waiting and joins their goroutines.
func (fi *faultInjector) close() {
	close(fi.done)
	fi.wg.Wait()
}
