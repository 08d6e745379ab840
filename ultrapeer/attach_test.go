package ultrapeer

import (
	"fmt"
	"slices"
	"testing"
)

func ids(prefix string, n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return s
}

// TestWeightGolden pins the hash: it is part of the protocol. The values
// were computed by an independent Python implementation of
// splitmix64-finalised FNV-1a 64 over a || 0x00 || b.
func TestWeightGolden(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want uint64
	}{
		{"", "", 0x25fc6dd36ce04b20},
		{"leaf-1", "up-1", 0x729a62877c1d74bf},
		{"servent-mesh-0", "up-000", 0x11f512ec002076e3},
	} {
		if got := Weight(tc.a, tc.b); got != tc.want {
			t.Errorf("Weight(%q, %q) = %#x, want %#x", tc.a, tc.b, got, tc.want)
		}
	}
	if Weight("ab", "c") == Weight("a", "bc") {
		t.Fatal("separator does not separate")
	}
}

func TestAttach(t *testing.T) {
	ups := ids("up", 10)
	for _, tc := range []struct {
		name string
		ups  []string
		k    int
		want int
	}{
		{"three of ten", ups, 3, 3},
		{"fewer exist", ups[:2], 3, 2},
		{"none", nil, 3, 0},
		{"k zero", ups, 0, 0},
		{"all", ups, 10, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Attach("leaf-7", tc.ups, tc.k)
			if len(got) != tc.want {
				t.Fatalf("Attach = %v, want %d", got, tc.want)
			}
			for i := 1; i < len(got); i++ {
				if Weight("leaf-7", got[i-1]) < Weight("leaf-7", got[i]) {
					t.Fatalf("not heaviest first: %v", got)
				}
			}
			if len(got) > 0 && !slices.Equal(got, Attach("leaf-7", tc.ups, len(tc.ups))[:len(got)]) {
				t.Fatalf("top-k is not a prefix of the full order")
			}
		})
	}
	if got := Attach("up-001", ups[:3], 3); slices.Contains(got, "up-001") || len(got) != 2 {
		t.Fatalf("Attach of a member of the set: %v", got)
	}
	shuffled := slices.Clone(ups)
	slices.Reverse(shuffled)
	if !slices.Equal(Attach("leaf-7", ups, 3), Attach("leaf-7", shuffled, 3)) {
		t.Fatal("order of the ultrapeer list matters")
	}
}

// TestAttachMinimalDisruption: when one ultrapeer leaves, only its leaves
// move; when one joins, leaves move only to it.
func TestAttachMinimalDisruption(t *testing.T) {
	ups := ids("up", 20)
	leaves := ids("leaf", 2000)
	before := make(map[string][]string, len(leaves))
	load := make(map[string]int)
	for _, l := range leaves {
		before[l] = Attach(l, ups, 3)
		for _, u := range before[l] {
			load[u]++
		}
	}
	for u, n := range load { // 6000 attachments over 20: 300 each on average
		if n < 200 || n > 400 {
			t.Errorf("%s has %d leaves: poor spread", u, n)
		}
	}
	gone := ups[7]
	rest := slices.Delete(slices.Clone(ups), 7, 8)
	moved := 0
	for _, l := range leaves {
		after := Attach(l, rest, 3)
		if !slices.Contains(before[l], gone) {
			if !slices.Equal(after, before[l]) {
				t.Fatalf("%s moved without losing an ultrapeer: %v -> %v", l, before[l], after)
			}
			continue
		}
		moved++
		kept := slices.DeleteFunc(slices.Clone(before[l]), func(s string) bool { return s == gone })
		if !slices.Equal(after[:2], kept) {
			t.Fatalf("%s: %v -> %v: surviving attachments changed", l, before[l], after)
		}
	}
	if moved != load[gone] {
		t.Fatalf("%d leaves moved, %d were attached to %s", moved, load[gone], gone)
	}
	added := append(slices.Clone(ups), "up-new")
	for _, l := range leaves {
		after := Attach(l, added, 3)
		for _, u := range after {
			if u != "up-new" && !slices.Contains(before[l], u) {
				t.Fatalf("%s gained %s, not the newcomer", l, u)
			}
		}
	}
}

func TestTryUltrapeers(t *testing.T) {
	ups := ids("up", 10)
	got := TryUltrapeers("up-003", ups, 4)
	if len(got) != 4 || slices.Contains(got, "up-003") {
		t.Fatalf("TryUltrapeers = %v", got)
	}
	if other := TryUltrapeers("up-004", ups, 4); slices.Equal(got, other) {
		t.Fatalf("two ultrapeers give the same hint %v", got)
	}
}

func BenchmarkAttach3of3400(b *testing.B) {
	ups := ids("up", 3400)
	b.ReportAllocs()
	for b.Loop() {
		Attach("leaf-42", ups, 3)
	}
}

func TestAttachWithCap(t *testing.T) {
	ups := ids("up", 10)
	const capacity = 4
	load := map[string]int{}
	full := func(u string) bool { return load[u] >= capacity }
	leaves := ids("leaf", 13) // 39 attachments for 40 places
	for _, l := range leaves {
		got := AttachWithCap(l, ups, 3, full)
		if len(got) != 3 {
			t.Fatalf("%s attached to %v", l, got)
		}
		pref := Attach(l, ups, 10)
		if free := slices.DeleteFunc(slices.Clone(pref), full); !slices.Equal(got, free[:3]) {
			t.Fatalf("%s: %v is not the first 3 free of %v", l, got, pref)
		}
		for _, u := range got {
			load[u]++
		}
	}
	for u, n := range load {
		if n > capacity {
			t.Fatalf("%s has %d leaves > cap %d", u, n, capacity)
		}
	}
	if got := AttachWithCap("late", ups, 3, full); len(got) != 1 {
		t.Fatalf("one place left, got %v", got)
	}
	if got := AttachWithCap("x", ups, 3, nil); !slices.Equal(got, Attach("x", ups, 3)) {
		t.Fatalf("nil skip: %v", got)
	}
}
