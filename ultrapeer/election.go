package ultrapeer

import (
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/servent-p2p/servent/role"
)

// Candidate is one member of the membership view as the election sees it.
type Candidate struct {
	// ID is the member's unique node name.
	ID string
	// Capacity is the member's published capacity (see CapacityScore).
	Capacity float64
	// Uptime is how long the member has been running, as the viewer
	// computes it from published metadata.
	Uptime time.Duration
	// Forced is the role the member's configuration forces (role.Leaf or
	// role.Ultrapeer; read back from its published capacity by ForcedRole),
	// or role.None.
	Forced role.Role
	// Incumbent is true when the member currently publishes the ultrapeer
	// role.
	Incumbent bool
}

// ElectionConfig tunes Elect. The zero value is usable: it means 30 members
// per ultrapeer, no leaf cap, no capacity floor, no hysteresis and no
// minimum uptime.
type ElectionConfig struct {
	// LeavesPerUltrapeer sets the base count: ceil(members /
	// LeavesPerUltrapeer), at least 1 (configuration key
	// leaves_per_ultrapeer). Values < 1 mean DefaultLeavesPerUltrapeer.
	LeavesPerUltrapeer int
	// UltrapeersPerLeaf is how many ultrapeers each leaf attaches to
	// (ultrapeers_per_leaf). Values < 1 mean DefaultUltrapeersPerLeaf.
	UltrapeersPerLeaf int
	// MaxLeaves is the most leaves one ultrapeer holds (max_leaves); the
	// count grows until every leaf fits (see Count). Values < 1: no cap.
	MaxLeaves int
	// MinCapacity is the capacity floor: an automatic candidate below it is
	// not eligible (unless nobody at all is, see Elect).
	MinCapacity float64
	// Hysteresis h widens the band in which an incumbent keeps its role: an
	// incumbent stays while its rank is below ceil(slots*(1+h)).
	Hysteresis float64
	// MinUptime: a candidate younger than this is ranked after every mature
	// eligible candidate, so it is elected only when too few mature ones
	// exist.
	MinUptime time.Duration
}

// Election defaults, as in configs/servent.yaml.
const (
	DefaultLeavesPerUltrapeer = 30
	DefaultUltrapeersPerLeaf  = 3
	DefaultMaxLeaves          = 120
	DefaultHysteresis         = 0.2
	DefaultMinUptime          = 30 * time.Second
)

// DefaultElectionConfig returns the defaults: 30 members per ultrapeer, 3
// ultrapeers per leaf, at most 120 leaves per ultrapeer, no capacity floor,
// hysteresis 0.2, minimum uptime 30 s.
func DefaultElectionConfig() ElectionConfig {
	return ElectionConfig{
		LeavesPerUltrapeer: DefaultLeavesPerUltrapeer,
		UltrapeersPerLeaf:  DefaultUltrapeersPerLeaf,
		MaxLeaves:          DefaultMaxLeaves,
		Hysteresis:         DefaultHysteresis,
		MinUptime:          DefaultMinUptime,
	}
}

// perLeaf is UltrapeersPerLeaf with its default applied.
func (c ElectionConfig) perLeaf() int {
	if c.UltrapeersPerLeaf < 1 {
		return DefaultUltrapeersPerLeaf
	}
	return c.UltrapeersPerLeaf
}

// UltrapeerCount returns the base number of ultrapeers a view of n members
// needs: max(1, ceil(n/leavesPerUltrapeer)). A leavesPerUltrapeer < 1
// means the default. Count adds the leaf cap.
func UltrapeerCount(n, leavesPerUltrapeer int) int {
	if leavesPerUltrapeer < 1 {
		leavesPerUltrapeer = DefaultLeavesPerUltrapeer
	}
	return max(1, (n+leavesPerUltrapeer-1)/leavesPerUltrapeer)
}

// Count returns the number of ultrapeers a view of n members elects: the
// smallest u >= UltrapeerCount(n, LeavesPerUltrapeer) (and <= n) with
//
//	(u - k + 1) * MaxLeaves >= (n - u) * k,   k = min(UltrapeersPerLeaf, u)
//
// With that many, Assign gives every leaf k ultrapeers without any over
// MaxLeaves: a leaf left short would see at least u-k+1 ultrapeers full,
// holding more attachments than all leaves together make. So for the
// defaults (30, 3, 120) a 100-member view gets 5 ultrapeers (4 would leave
// some leaf short in the worst case), a 1,000-member view the base 34.
// Without a cap (MaxLeaves < 1) Count is the base count.
func (c ElectionConfig) Count(n int) int {
	u := UltrapeerCount(n, c.LeavesPerUltrapeer)
	if c.MaxLeaves < 1 {
		return u
	}
	for ; u < n; u++ {
		k := min(c.perLeaf(), u)
		if (u-k+1)*c.MaxLeaves >= (n-u)*k {
			break
		}
	}
	return u
}

// uptimeSteps is the number of uptime doublings (in minutes) after which the
// uptime bonus stops growing: 2^8-1 = 255 minutes, about 4 hours.
const uptimeSteps = 8

// Score folds uptime into capacity:
//
//	Score = capacity * (1 + min(floor(log2(1 + uptime/1min)), 8) / 8)
//
// The uptime factor grows by one eighth at each doubling of the uptime in
// minutes (1, 3, 7, 15 ... 255 min) and stays at 2 after about 4 hours. It is
// a step function on purpose: two members computing the uptime of a third
// with slightly different clocks get the same score except near a step.
// Capacities below 0 or NaN score 0.
func Score(capacity float64, uptime time.Duration) float64 {
	if !(capacity > 0) {
		return 0
	}
	steps := 0
	if uptime >= time.Minute {
		steps = min(bits.Len64(uint64(uptime/time.Minute)+1)-1, uptimeSteps)
	}
	return capacity * (1 + float64(steps)/uptimeSteps)
}

// CapacityScore is the capacity a node publishes, from its own machine: 10
// points per CPU (at most 32 counted), 4 points per GiB of memory (at most 64
// GiB counted) and 1 point per 20 Mbit/s of link speed (at most 10 Gbit/s
// counted; 0 when unknown). A 4-CPU, 8 GiB host on gigabit ethernet scores
// 40+32+50 = 122. The result is rounded to 1/100 so that it survives any
// metadata encoding unchanged.
func CapacityScore(cpus int, memBytes uint64, linkMbps int) float64 {
	c := float64(min(max(cpus, 0), 32)) * 10
	m := math.Min(float64(memBytes)/(1<<30), 64) * 4
	l := float64(min(max(linkMbps, 0), 10000)) / 20
	return math.Round((c+m+l)*100) / 100
}

// ranked is an eligible candidate with its precomputed ordering key.
type ranked struct {
	id        string
	score     float64
	mature    bool
	incumbent bool
}

// rankCmp orders mature before young, then higher score, then lower ID.
func rankCmp(a, b ranked) int {
	if a.mature != b.mature {
		if a.mature {
			return -1
		}
		return 1
	}
	if a.score != b.score {
		if a.score > b.score {
			return -1
		}
		return 1
	}
	return strings.Compare(a.id, b.id)
}

// Elect returns the ultrapeer set, sorted by ID, that the view cands yields.
// It is a pure function of its arguments: every member computing it from the
// same view gets the same answer. It runs in O(n log n) and is safe for
// concurrent use.
//
// The rule:
//   - count = cfg.Count(len(cands)); forced leaves count as members.
//   - Members forced to role.Ultrapeer are always in; members forced to
//     role.Leaf never are. slots = count - forced ultrapeers (maybe 0).
//   - Eligible: automatic members with Capacity >= MinCapacity. They are
//     ranked mature (Uptime >= MinUptime) first, then by Score descending,
//     then by ID ascending.
//   - Hysteresis: incumbents ranked below band = ceil(slots*(1+h)) keep
//     their role first, best-ranked first, up to slots; the remaining slots
//     go to the best-ranked others. So the set has exactly count members
//     (when enough are eligible), and a newcomer that outranks an incumbent
//     inside the band does not displace it.
//   - When fewer than slots are eligible, all eligible are taken. When the
//     result would be empty but automatic members exist below the capacity
//     floor, the best of them is taken: a network needs one ultrapeer.
//
// Duplicate IDs in cands are the caller's error; the result never repeats an
// ID.
func Elect(cands []Candidate, cfg ElectionConfig) []string {
	count := cfg.Count(len(cands))
	var out []string
	elig := make([]ranked, 0, len(cands))
	var fallback ranked
	haveFallback := false
	for _, c := range cands {
		switch c.Forced {
		case role.Ultrapeer:
			out = append(out, c.ID)
			continue
		case role.Leaf:
			continue
		}
		r := ranked{
			id:        c.ID,
			score:     Score(c.Capacity, c.Uptime),
			mature:    c.Uptime >= cfg.MinUptime,
			incumbent: c.Incumbent,
		}
		if !(c.Capacity >= cfg.MinCapacity) {
			if !haveFallback || rankCmp(r, fallback) < 0 {
				fallback, haveFallback = r, true
			}
			continue
		}
		elig = append(elig, r)
	}
	slots := count - len(out)
	if slots > 0 {
		slices.SortFunc(elig, rankCmp)
		h := cfg.Hysteresis
		if !(h > 0) { // negative or NaN
			h = 0
		}
		band := int(math.Ceil(float64(slots) * (1 + h)))
		band = min(band, len(elig))
		kept := 0
		for i := range band {
			if elig[i].incumbent && kept < slots {
				out = append(out, elig[i].id)
				kept++
			}
		}
		for i := 0; i < len(elig) && kept < slots; i++ {
			if i < band && elig[i].incumbent {
				continue // already in
			}
			out = append(out, elig[i].id)
			kept++
		}
	}
	if len(out) == 0 && haveFallback {
		out = append(out, fallback.id)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
