package sim

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ErrSpec reports a malformed benchmark specification (a flag value).
var ErrSpec = errors.New("bad benchmark spec")

// LatencyKind selects how link latencies are drawn.
type LatencyKind uint8

// Latency kinds.
const (
	// Constant: every link has latency Min.
	Constant LatencyKind = iota
	// Uniform: each link's latency is uniform in [Min, Max].
	Uniform
	// Exponential: each link's latency is Min plus an exponential draw of
	// mean Max.
	Exponential
)

// Latency is the one-way latency model of the links. A link's latency is a
// fixed function of the seed and its two endpoints, the same in both
// directions and for every message, so it does not depend on the order in
// which random numbers are drawn elsewhere.
type Latency struct {
	Kind     LatencyKind
	Min, Max time.Duration
}

// maxLatency bounds every latency parameter: the virtual clock must not
// overflow, and a query must finish long before the duplicate cache forgets
// it.
const maxLatency = 10 * time.Second

// ParseLatency parses "10ms" (constant), "uniform:5ms-50ms" or
// "exp:10ms" (exponential, mean 10ms) or "exp:2ms+10ms" (2ms plus an
// exponential of mean 10ms).
func ParseLatency(s string) (Latency, error) {
	kind, arg, ok := strings.Cut(s, ":")
	if !ok {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > maxLatency {
			return Latency{}, fmt.Errorf("latency %q: %w", s, ErrSpec)
		}
		return Latency{Kind: Constant, Min: d}, nil
	}
	var sep string
	var l Latency
	switch kind {
	case "uniform":
		sep, l.Kind = "-", Uniform
	case "exp":
		sep, l.Kind = "+", Exponential
	default:
		return Latency{}, fmt.Errorf("latency kind %q (want uniform or exp): %w", kind, ErrSpec)
	}
	lo, hi, two := strings.Cut(arg, sep)
	if !two {
		lo, hi = "0s", lo
		if l.Kind == Uniform {
			return Latency{}, fmt.Errorf("latency %q (want uniform:MIN-MAX): %w", s, ErrSpec)
		}
	}
	var err1, err2 error
	l.Min, err1 = time.ParseDuration(lo)
	l.Max, err2 = time.ParseDuration(hi)
	if err1 != nil || err2 != nil || l.Min < 0 || l.Max < 0 || l.Min > maxLatency || l.Max > maxLatency ||
		(l.Kind == Uniform && l.Max < l.Min) {
		return Latency{}, fmt.Errorf("latency %q: %w", s, ErrSpec)
	}
	return l, nil
}

// String formats l in the syntax ParseLatency reads.
func (l Latency) String() string {
	switch l.Kind {
	case Uniform:
		return fmt.Sprintf("uniform:%v-%v", l.Min, l.Max)
	case Exponential:
		return fmt.Sprintf("exp:%v+%v", l.Min, l.Max)
	}
	return l.Min.String()
}

// link returns the latency in nanoseconds of the link a–b under seed.
func (l Latency) link(seed uint64, a, b int32) int64 {
	if l.Kind == Constant {
		return int64(l.Min)
	}
	lo, hi := uint64(min(a, b)), uint64(max(a, b))
	u := float64(splitmix(seed^splitmix(lo<<32|hi))>>11) / (1 << 53) // [0,1)
	if l.Kind == Uniform {
		return int64(l.Min) + int64(u*float64(l.Max-l.Min))
	}
	return int64(l.Min) + int64(-math.Log1p(-u)*float64(l.Max))
}

// splitmix is the SplitMix64 mixing function.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// hopWait is how long dynamic querying waits for hits per TTL hop: a
// round trip over a link of typical latency (Min for constant links, Max
// for uniform ones, Min+Max for exponential ones) plus 1 ms, so that the
// hits of a TTL-t query over such links arrive before the next step.
func (l Latency) hopWait() time.Duration {
	d := l.Min
	switch l.Kind {
	case Uniform:
		d = l.Max
	case Exponential:
		d = l.Min + l.Max
	}
	return 2*d + time.Millisecond
}
