package sim

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParsers(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string) (any, error)
		in    string
		want  any
	}{
		{"nodes", anyOf(ParseNodes), "100,1k,10_000,1M", []int{100, 1000, 10000, 1000000}},
		{"nodes", anyOf(ParseNodes), "1", nil},
		{"nodes", anyOf(ParseNodes), "100,x", nil},
		{"ttl", anyOf(ParseTTLs), "7", []int{7}},
		{"ttl", anyOf(ParseTTLs), "1..3,7", []int{1, 2, 3, 7}},
		{"ttl", anyOf(ParseTTLs), "3..1", nil},
		{"ttl", anyOf(ParseTTLs), "0", nil},
		{"ttl", anyOf(ParseTTLs), "256", nil},
		{"mode", anyOf(ParseModes), "all", []Mode{ModeFlood, ModeSmart, ModeQRP, ModeDynamic}},
		{"mode", anyOf(ParseModes), "qrp,flood,qrp", []Mode{ModeFlood, ModeQRP}},
		{"mode", anyOf(ParseModes), "gossip", nil},
		{"replication", anyOf(ParseReplication), "uniform:5", Replication{K: 5}},
		{"replication", anyOf(ParseReplication), "uniform", Replication{K: 3}},
		{"replication", anyOf(ParseReplication), "zipf", Replication{Zipf: true, S: 1}},
		{"replication", anyOf(ParseReplication), "zipf:0.8", Replication{Zipf: true, S: 0.8}},
		{"replication", anyOf(ParseReplication), "uniform:0", nil},
		{"replication", anyOf(ParseReplication), "zipf:-1", nil},
		{"latency", anyOf(ParseLatency), "10ms", Latency{Kind: Constant, Min: 10 * time.Millisecond}},
		{"latency", anyOf(ParseLatency), "uniform:5ms-50ms", Latency{Kind: Uniform, Min: 5 * time.Millisecond, Max: 50 * time.Millisecond}},
		{"latency", anyOf(ParseLatency), "exp:10ms", Latency{Kind: Exponential, Max: 10 * time.Millisecond}},
		{"latency", anyOf(ParseLatency), "exp:2ms+10ms", Latency{Kind: Exponential, Min: 2 * time.Millisecond, Max: 10 * time.Millisecond}},
		{"latency", anyOf(ParseLatency), "uniform:50ms-5ms", nil},
		{"latency", anyOf(ParseLatency), "uniform:5ms", nil},
		{"latency", anyOf(ParseLatency), "normal:5ms", nil},
		{"latency", anyOf(ParseLatency), "-1ms", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+tc.in, func(t *testing.T) {
			got, err := tc.parse(tc.in)
			if tc.want == nil {
				if !errors.Is(err, ErrSpec) {
					t.Fatalf("got %v, %v; want ErrSpec", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func anyOf[T any](f func(string) (T, error)) func(string) (any, error) {
	return func(s string) (any, error) { return f(s) }
}

func TestStringRoundTrip(t *testing.T) {
	for _, s := range []string{"10ms", "uniform:5ms-50ms", "exp:2ms+10ms"} {
		l, err := ParseLatency(s)
		if err != nil || l.String() != s {
			t.Errorf("%q → %v, %v", s, l, err)
		}
	}
	for _, s := range []string{"uniform:3", "zipf:1.5"} {
		r, err := ParseReplication(s)
		if err != nil || r.String() != s {
			t.Errorf("%q → %v, %v", s, r, err)
		}
	}
}

// TestLinkLatency: symmetric, within bounds, fixed per link.
func TestLinkLatency(t *testing.T) {
	u := Latency{Kind: Uniform, Min: 5 * time.Millisecond, Max: 50 * time.Millisecond}
	e := Latency{Kind: Exponential, Min: time.Millisecond, Max: 10 * time.Millisecond}
	var sum int64
	for a := range int32(100) {
		for b := range int32(100) {
			x := u.link(1, a, b)
			if x != u.link(1, b, a) || x < int64(u.Min) || x > int64(u.Max) {
				t.Fatalf("uniform %d-%d: %v", a, b, time.Duration(x))
			}
			y := e.link(1, a, b)
			if y < int64(e.Min) {
				t.Fatalf("exp %d-%d: %v", a, b, time.Duration(y))
			}
			sum += y
		}
	}
	if mean := time.Duration(sum / 10000); mean < 9*time.Millisecond || mean > 13*time.Millisecond {
		t.Errorf("exp mean %v, want about 11ms", mean)
	}
}

// FuzzParseSpecs: the flag parsers never panic, and fail only with ErrSpec.
func FuzzParseSpecs(f *testing.F) {
	for _, s := range []string{"7", "1..7", "1,2,3", "100,1k,1M", "all", "zipf:1.2", "uniform:3", "exp:2ms+10ms", "uniform:1ms-2ms", "..", ",", "9..", "k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(name string, err error) {
			if err != nil && !errors.Is(err, ErrSpec) {
				t.Fatalf("%s(%q): %v is not ErrSpec", name, s, err)
			}
		}
		if ttls, err := ParseTTLs(s); err == nil && len(ttls) > 255*strings.Count(s+",", ",") {
			t.Fatalf("ParseTTLs(%q): %d TTLs", s, len(ttls))
		} else {
			check("ParseTTLs", err)
		}
		_, err := ParseNodes(s)
		check("ParseNodes", err)
		_, err = ParseModes(s)
		check("ParseModes", err)
		_, err = ParseReplication(s)
		check("ParseReplication", err)
		_, err = ParseLatency(s)
		check("ParseLatency", err)
	})
}
