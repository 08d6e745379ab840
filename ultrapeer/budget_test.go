package ultrapeer

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// heapInUse returns the live heap after two collections.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// hostileEntries returns entries built to cost an ultrapeer the most heap
// per byte sent: MaxKeywords distinct short keywords each, about size
// bytes encoded in all.
func hostileEntries(seed string, size int) []Entry {
	var out []Entry
	n := 0
	for wire := 0; wire < size; {
		e := Entry{Path: fmt.Sprintf("%s/%d", seed, len(out))}
		for range MaxKeywords {
			e.Keywords = append(e.Keywords, fmt.Sprintf("%s%x", seed, n))
			n++
		}
		e.Hash[0], e.Hash[1], e.Hash[2] = byte(n), byte(n>>8), byte(n>>16)
		wire += entryWireSize(e)
		out = append(out, e)
	}
	return out
}

// realisticEntries returns n entries shaped like a music library.
func realisticEntries(n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		out[i] = entry(fmt.Sprintf("Music/Artist %d/Album %d/Track %02d - Some Title %d.mp3", i/500, i/12, i%12, i))
		out[i].Hash[8], out[i].Hash[9], out[i].Hash[10] = byte(i), byte(i>>8), byte(i>>16)
	}
	return out
}

// TestRegistryHeapWithinBudget is item 3 of issue 14 at the registry:
// one member sends far more than its budget, as two big updates of
// entries built to cost the most heap per byte, and as a realistic
// library. The heap the registry keeps for it must stay within
// HeapMultiple times its budget, and the entries beyond it are counted.
func TestRegistryHeapWithinBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 1 GiB")
	}
	const budget = 8 << 20
	for _, tc := range []struct {
		name    string
		updates func() []Update
	}{
		{"distinct keywords", func() []Update {
			return []Update{
				{Full: true, ToVersion: 1, Add: hostileEntries("a", 15<<20)},
				{FromVersion: 1, ToVersion: 2, Add: hostileEntries("b", 15<<20)},
			}
		}},
		{"music library", func() []Update {
			return []Update{{Full: true, ToVersion: 1, Add: realisticEntries(100_000)}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRegistry(0)
			r.SetBudget(Budget{Bytes: budget, Keywords: 1 << 30, EntryKeywords: MaxKeywords})
			sent, dropped := 0, 0
			h0 := heapInUse()
			for _, u := range tc.updates() {
				var buf bytes.Buffer
				if err := WriteFrame(&buf, &u); err != nil {
					t.Fatal(err)
				}
				sent += buf.Len()
				res, err := r.ApplyResult(owner("mallory"), u)
				if err != nil {
					t.Fatal(err)
				}
				dropped += res.Dropped
			}
			grown := int64(heapInUse()) - int64(h0)
			st := r.snapshot()[0]
			t.Logf("sent %.1f MiB; held %d entries, %d left out; charged %.2f MiB of a %d MiB budget; heap +%.1f MiB = %.2fx the budget (%.2fx what was sent)",
				float64(sent)/(1<<20), st.idx.len(), dropped, float64(st.idx.cost)/(1<<20), budget>>20,
				float64(grown)/(1<<20), float64(grown)/budget, float64(grown)/float64(sent))
			if st.idx.cost > budget {
				t.Errorf("charged %d bytes, over the budget %d", st.idx.cost, budget)
			}
			if dropped == 0 {
				t.Errorf("nothing left out of %.1f MiB sent on a %d MiB budget", float64(sent)/(1<<20), budget>>20)
			}
			if grown > HeapMultiple*budget {
				t.Errorf("heap grew %d bytes, more than %dx the budget (%d)", grown, HeapMultiple, budget)
			}
			runtime.KeepAlive(r)
		})
	}
}

// TestRegistryAnswersWhileApplying checks that a big update does not stall
// queries: Match calls made while a 150,000-entry index (30,000 with
// -short) is being built
// complete before it is swapped in, and see the owner's old index whole.
func TestRegistryAnswersWhileApplying(t *testing.T) {
	r := NewRegistry(0)
	mustApply(t, r, "small", Update{Full: true, ToVersion: 1, Add: []Entry{entry("maps/bern.pdf")}})
	mustApply(t, r, "big", Update{Full: true, ToVersion: 1, Add: []Entry{entry("old/track.mp3")}})
	n := 150_000
	if testing.Short() {
		n = 30_000
	}
	big := Update{Full: true, ToVersion: 2, Add: realisticEntries(n)}
	var applying atomic.Bool
	applying.Store(true)
	var wg sync.WaitGroup
	var took time.Duration
	wg.Go(func() {
		start := time.Now()
		if _, err := r.Apply(owner("big"), big); err != nil {
			t.Error(err)
		}
		took = time.Since(start)
		applying.Store(false)
	})
	answered := 0
	for applying.Load() {
		got := paths(r.Match([]string{"bern"}, nil, 0))
		if !applying.Load() {
			break
		}
		if !slices.Equal(got, []string{"small:maps/bern.pdf"}) {
			t.Fatalf("Match during the update = %v", got)
		}
		if n := len(r.Match([]string{"track"}, nil, 0)); n != 1 {
			t.Fatalf("%d entries of the big owner matched while its update is built, want its old 1", n)
		}
		answered++
	}
	wg.Wait()
	t.Logf("%d queries answered while a %d-entry update was applied (%v)", answered, len(big.Add), took.Round(time.Millisecond))
	if answered < 3 {
		t.Errorf("only %d queries answered while the update was applied for %v", answered, took)
	}
	if got := len(paths(r.Match([]string{"track"}, nil, 0))); got != n {
		t.Errorf("after the update: %d tracks, want %d", got, n)
	}
}

func TestRegistryEntryKeywordCap(t *testing.T) {
	r := NewRegistry(0)
	r.SetBudget(Budget{Bytes: 1 << 20, Keywords: 10, EntryKeywords: 3})
	res, err := r.ApplyResult(owner("l"), Update{Full: true, ToVersion: 1, Add: []Entry{
		{Path: "a", Keywords: []string{"one", "two", "three", "four"}},
		{Path: "b", Keywords: []string{"five", "six", "seven"}},
		{Path: "c", Keywords: []string{"eight", "nine", "ten"}},
		{Path: "d", Keywords: []string{"eleven"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// a keeps three keywords; b fills six; c would make nine: kept; d ten.
	if got := r.Keywords(); !slices.Equal(got, []string{"eight", "eleven", "five", "nine", "one", "seven", "six", "ten", "three", "two"}) {
		t.Fatalf("Keywords = %v", got)
	}
	if res.Dropped != 0 {
		t.Fatalf("dropped %d", res.Dropped)
	}
	res, err = r.ApplyResult(owner("l"), Update{FromVersion: 1, ToVersion: 2, Add: []Entry{{Path: "e", Keywords: []string{"twelve"}}}})
	if err != nil || res.Dropped != 1 {
		t.Fatalf("over the keyword budget: %+v, %v; want 1 dropped", res, err)
	}
}
