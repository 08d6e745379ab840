package sim

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
)

// Replication is how many copies of each file exist and how often each file
// is asked for.
type Replication struct {
	// Zipf false: every file on K distinct random nodes, queries for files
	// drawn uniformly.
	// Zipf true: file of popularity rank r (1-based) on
	// max(1, round(top/r^S)) nodes, top = max(3, ceil(n/100)), and queries
	// ask for rank r with probability proportional to 1/r^S.
	Zipf bool
	K    int
	S    float64
}

// ParseReplication parses "uniform:K" (or "uniform", K=3), "zipf" (S=1) or
// "zipf:S".
func ParseReplication(s string) (Replication, error) {
	kind, arg, has := strings.Cut(s, ":")
	switch kind {
	case "uniform":
		r := Replication{K: 3}
		if has {
			k, err := strconv.Atoi(arg)
			if err != nil || k < 1 {
				return r, fmt.Errorf("replication %q: %w", s, ErrSpec)
			}
			r.K = k
		}
		return r, nil
	case "zipf":
		r := Replication{Zipf: true, S: 1}
		if has {
			v, err := strconv.ParseFloat(arg, 64)
			if err != nil || !(v > 0) || v > 10 {
				return r, fmt.Errorf("replication %q: %w", s, ErrSpec)
			}
			r.S = v
		}
		return r, nil
	}
	return Replication{}, fmt.Errorf("replication %q (want uniform:K or zipf[:S]): %w", s, ErrSpec)
}

// String formats r in the syntax ParseReplication reads.
func (r Replication) String() string {
	if r.Zipf {
		return "zipf:" + strconv.FormatFloat(r.S, 'g', -1, 64)
	}
	return "uniform:" + strconv.Itoa(r.K)
}

// simFile is one distinct file of the workload. Its name has one keyword
// of its own ("kw<index>"), so a query for that keyword targets it alone.
type simFile struct {
	name     string
	size     uint64
	hash     content.Hash
	keywords []string
}

// workload is the files, their placement and the queries of a benchmark,
// shared by every mode and TTL.
type workload struct {
	files     []simFile
	holders   [][]int32 // per file: the nodes holding a copy, ascending
	nodeFiles [][]int32 // per node: the files it holds, ascending
	copies    int       // total copies
	queries   []job     // ttl left 0: set per run
}

// newWorkload places nFiles files on n nodes and draws nQueries queries,
// each from a random node that does not hold its file.
func newWorkload(n, nFiles, nQueries int, rep Replication, rng *rand.Rand) (*workload, error) {
	if n < 2 || nFiles < 1 || nQueries < 1 {
		return nil, fmt.Errorf("workload of %d files, %d queries on %d nodes: %w", nFiles, nQueries, n, ErrSpec)
	}
	w := &workload{files: make([]simFile, nFiles), holders: make([][]int32, nFiles), nodeFiles: make([][]int32, n)}
	top := max(3, (n+99)/100)
	weights := make([]float64, nFiles) // cumulative query popularity
	acc := 0.0
	for i := range w.files {
		f := &w.files[i]
		f.name = "music/" + fileKeyword(i) + ".ogg"
		f.keywords = content.Keywords(f.name)
		f.size = 1<<20 + rng.Uint64N(64<<20)
		binary.LittleEndian.PutUint64(f.hash[:], rng.Uint64())
		binary.LittleEndian.PutUint64(f.hash[8:], uint64(i)+1)
		k := rep.K
		p := 1.0
		if rep.Zipf {
			p = math.Pow(float64(i+1), -rep.S)
			k = max(1, int(math.Round(float64(top)*p)))
		}
		acc += p
		weights[i] = acc
		k = min(k, n-1) // leave someone to ask
		w.holders[i] = sampleDistinct(n, k, rng)
		for _, v := range w.holders[i] {
			w.nodeFiles[v] = append(w.nodeFiles[v], int32(i))
		}
		w.copies += k
	}
	w.queries = make([]job, nQueries)
	guidRng := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	for i := range w.queries {
		fi, _ := slices.BinarySearch(weights, rng.Float64()*acc)
		fi = min(fi, nFiles-1)
		origin := int32(rng.IntN(n))
		for tries := 0; slices.Contains(w.holders[fi], origin); tries++ {
			if tries > 64 { // pathological density: take the first non-holder
				origin = firstNonHolder(n, w.holders[fi])
				break
			}
			origin = int32(rng.IntN(n))
		}
		guid, err := query.NewGUID(rngReader{guidRng})
		if err != nil {
			return nil, err
		}
		f := &w.files[fi]
		w.queries[i] = job{
			n: uint32(i), origin: origin, guid: guid, target: f.hash,
			q: &query.Query{Criteria: fileKeyword(fi)},
		}
	}
	return w, nil
}

// fileKeyword is the keyword that only file i has.
func fileKeyword(i int) string { return fmt.Sprintf("kw%07d", i) }

// fileOf returns the index of the file a query asks for.
func (w *workload) fileOf(j job) int {
	return int(binary.LittleEndian.Uint64(j.target[8:]) - 1)
}

// sampleDistinct returns k distinct nodes of 0..n-1, ascending.
func sampleDistinct(n, k int, rng *rand.Rand) []int32 {
	out := make([]int32, 0, k)
	for len(out) < k {
		v := int32(rng.IntN(n))
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

func firstNonHolder(n int, holders []int32) int32 {
	for v := range int32(n) {
		if _, found := slices.BinarySearch(holders, v); !found {
			return v
		}
	}
	return 0
}

// rngReader reads random bytes from a seeded generator (for query.NewGUID).
type rngReader struct{ r *rand.Rand }

func (g rngReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], g.r.Uint64())
		copy(p[i:], b[:])
	}
	return len(p), nil
}
