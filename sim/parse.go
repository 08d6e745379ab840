package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseNodes parses a comma-separated list of sizes; "k" and "M" suffixes
// multiply by 1,000 and 1,000,000 ("100,1k,10k,100k").
func ParseNodes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		mul := 1
		switch {
		case strings.HasSuffix(f, "k"):
			mul, f = 1000, strings.TrimSuffix(f, "k")
		case strings.HasSuffix(f, "M"):
			mul, f = 1_000_000, strings.TrimSuffix(f, "M")
		}
		v, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || v < 1 || v > 10_000_000/mul || v*mul < 2 {
			return nil, fmt.Errorf("nodes %q: %w", s, ErrSpec)
		}
		out = append(out, v*mul)
	}
	return out, nil
}

// ParseTTLs parses "7", "1..7" or "1,2,3" (and mixes: "1..3,7").
func ParseTTLs(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		lo, hi, rng := strings.Cut(strings.TrimSpace(f), "..")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if rng {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 1 || b > 255 || b < a {
			return nil, fmt.Errorf("ttl %q: %w", s, ErrSpec)
		}
		for t := a; t <= b; t++ {
			out = append(out, t)
		}
	}
	return out, nil
}
