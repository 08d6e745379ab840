package ultrapeer

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
)

func owner(id string) Owner {
	return Owner{ID: id, Addr: netip.MustParseAddrPort("127.0.0.2:6346"), Fingerprint: [32]byte{1}}
}

func entry(path string) Entry {
	var h content.Hash
	copy(h[:], path)
	return Entry{Path: path, Size: int64(len(path)), Hash: h}
}

// paths flattens a match result into owner:path strings.
func paths(m []OwnerMatch) []string {
	var out []string
	for _, om := range m {
		for _, e := range om.Entries {
			out = append(out, om.Owner.ID+":"+e.Path)
		}
	}
	return out
}

func mustApply(t *testing.T, r *Registry, id string, u Update) {
	t.Helper()
	if _, err := r.Apply(owner(id), u); err != nil {
		t.Fatalf("Apply(%s, %+v): %v", id, u, err)
	}
}

func TestRegistryMatch(t *testing.T) {
	r := NewRegistry(0)
	mustApply(t, r, "leaf-a", Update{Full: true, ToVersion: 1, Add: []Entry{
		entry("Maps/Zürich_2024.PDF"), entry("maps/bern.pdf"), entry("music/Zürich song.mp3"),
	}})
	mustApply(t, r, "leaf-b", Update{Full: true, ToVersion: 7, Add: []Entry{
		entry("zürich/maps.txt"),
		{Path: "x.bin", Size: 1, Keywords: []string{"Secret", "PLAN"}},
	}})
	if _, err := r.ApplySelf(owner("self"), Update{Full: true, ToVersion: 1, Add: []Entry{entry("my maps/zurich.pdf")}}); err != nil {
		t.Fatal(err)
	}
	urn := entry("maps/bern.pdf").Hash
	for _, tc := range []struct {
		name  string
		words []string
		urn   *content.Hash
		limit int
		want  []string
	}{
		{"two words any order", []string{"zürich", "MAPS"}, nil, 0, []string{"leaf-a:Maps/Zürich_2024.PDF", "leaf-b:zürich/maps.txt", "self:my maps/zurich.pdf"}},
		{"one query string", []string{"Zürich maps"}, nil, 0, []string{"leaf-a:Maps/Zürich_2024.PDF", "leaf-b:zürich/maps.txt", "self:my maps/zurich.pdf"}},
		{"prefix of three characters", []string{"zür"}, nil, 0, []string{"leaf-a:Maps/Zürich_2024.PDF", "leaf-a:music/Zürich song.mp3", "leaf-b:zürich/maps.txt", "self:my maps/zurich.pdf"}},
		{"two characters: whole words only", []string{"zu"}, nil, 0, nil},
		{"accents folded", []string{"ZURICH"}, nil, 0, []string{"leaf-a:Maps/Zürich_2024.PDF", "leaf-a:music/Zürich song.mp3", "leaf-b:zürich/maps.txt", "self:my maps/zurich.pdf"}},
		{"limit keeps exact matches first", []string{"map"}, nil, 2, []string{"leaf-a:Maps/Zürich_2024.PDF", "leaf-a:maps/bern.pdf"}},
		{"limit keeps the first in order", []string{"maps"}, nil, 2, []string{"leaf-a:Maps/Zürich_2024.PDF", "leaf-a:maps/bern.pdf"}},
		{"all maps", []string{"maps"}, nil, 0, []string{"leaf-a:Maps/Zürich_2024.PDF", "leaf-a:maps/bern.pdf", "leaf-b:zürich/maps.txt", "self:my maps/zurich.pdf"}},
		{"supplied keywords, not path", []string{"secret", "plan"}, nil, 0, []string{"leaf-b:x.bin"}},
		{"path words ignored when keywords given", []string{"bin"}, nil, 0, nil},
		{"urn", nil, &urn, 0, []string{"leaf-a:maps/bern.pdf"}},
		{"urn and word", []string{"zürich"}, &urn, 0, nil},
		{"missing word", []string{"maps", "nothing"}, nil, 0, nil},
		{"empty query", nil, nil, 0, nil},
		{"punctuation only", []string{"--"}, nil, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := paths(r.Match(tc.words, tc.urn, tc.limit))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Match = %v, want %v", got, tc.want)
			}
		})
	}
	m := r.Match([]string{"secret"}, nil, 0)
	if m[0].Owner != owner("leaf-b") || !slices.Equal(m[0].Entries[0].Keywords, []string{"secret", "plan"}) {
		t.Fatalf("match detail: %+v", m)
	}
}

func TestRegistryVersions(t *testing.T) {
	r := NewRegistry(0)
	full := Update{Full: true, ToVersion: 3, Add: []Entry{entry("a/one"), entry("a/two")}}
	delta := Update{FromVersion: 3, ToVersion: 4, Add: []Entry{entry("a/three")}, Remove: []string{"a/one"}}
	for _, tc := range []struct {
		name    string
		u       Update
		applied bool
		err     error
		version uint64
		words   []string
	}{
		{"delta before full", delta, false, ErrVersionGap, 0, nil},
		{"full", full, true, nil, 3, []string{"a", "one", "two"}},
		{"delta", delta, true, nil, 4, []string{"a", "three", "two"}},
		{"retry is a no-op", delta, false, nil, 4, []string{"a", "three", "two"}},
		{"old retry is a no-op", Update{FromVersion: 1, ToVersion: 2}, false, nil, 4, []string{"a", "three", "two"}},
		{"gap", Update{FromVersion: 5, ToVersion: 6, Add: []Entry{entry("x")}}, false, ErrVersionGap, 4, []string{"a", "three", "two"}},
		{"bad delta", Update{FromVersion: 4, ToVersion: 4}, false, ErrBadUpdate, 4, []string{"a", "three", "two"}},
		{"bad entry", Update{FromVersion: 4, ToVersion: 5, Add: []Entry{{Path: ""}}}, false, ErrBadUpdate, 4, []string{"a", "three", "two"}},
		{"full with removals", Update{Full: true, ToVersion: 9, Remove: []string{"x"}}, false, ErrBadUpdate, 4, []string{"a", "three", "two"}},
		{"replace by path", Update{FromVersion: 4, ToVersion: 5, Add: []Entry{{Path: "a/two", Keywords: []string{"deux"}}}}, true, nil, 5, []string{"a", "deux", "three"}},
		{"full replaces, lower version", Update{Full: true, ToVersion: 1, Add: []Entry{entry("b")}}, true, nil, 1, []string{"b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			applied, err := r.Apply(owner("leaf"), tc.u)
			if applied != tc.applied || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("Apply = %v, %v; want %v, %v", applied, err, tc.applied, tc.err)
			}
			v, _ := r.OwnerVersion("leaf")
			if v != tc.version {
				t.Fatalf("version %d, want %d", v, tc.version)
			}
			if got := r.Keywords(); !slices.Equal(got, tc.words) {
				t.Fatalf("Keywords = %v, want %v", got, tc.words)
			}
		})
	}
}

func TestRegistryCapAndDrop(t *testing.T) {
	r := NewRegistry(2)
	if _, err := r.ApplySelf(owner("self"), Update{Full: true, Add: []Entry{entry("own")}}); err != nil {
		t.Fatal(err)
	}
	mustApply(t, r, "l1", Update{Full: true, ToVersion: 1, Add: []Entry{entry("one")}})
	if r.Full() {
		t.Fatal("full with one leaf of two")
	}
	mustApply(t, r, "l2", Update{Full: true, ToVersion: 1})
	if !r.Full() {
		t.Fatal("not full with two leaves of two")
	}
	if _, err := r.Apply(owner("l3"), Update{Full: true, ToVersion: 1}); !errors.Is(err, ErrFull) {
		t.Fatalf("third leaf: %v, want ErrFull", err)
	}
	mustApply(t, r, "l1", Update{Full: true, ToVersion: 2, Add: []Entry{entry("uno")}}) // registered: allowed
	if got := r.Leaves(); !slices.Equal(got, []string{"l1", "l2"}) {
		t.Fatalf("Leaves = %v", got)
	}
	v := r.Version()
	if !r.Drop("l1") || r.Drop("l1") {
		t.Fatal("Drop twice")
	}
	if r.Version() == v {
		t.Fatal("Version unchanged by Drop")
	}
	if r.Full() || len(r.Match([]string{"uno"}, nil, 0)) != 0 {
		t.Fatal("dropped leaf still counted or matched")
	}
	if got := r.Keywords(); !slices.Equal(got, []string{"own"}) {
		t.Fatalf("Keywords after drop = %v", got)
	}
	mustApply(t, r, "l3", Update{Full: true, ToVersion: 1})
}

func TestRegistryHandle(t *testing.T) {
	r := NewRegistry(1)
	try := []string{"up-2", "up-3"}
	for _, tc := range []struct {
		name string
		id   string
		u    Update
		want Message
	}{
		{"register", "l1", Update{Full: true, ToVersion: 5}, &Ack{Version: 5}},
		{"retry", "l1", Update{FromVersion: 4, ToVersion: 5}, &Ack{Version: 5}},
		{"gap", "l1", Update{FromVersion: 6, ToVersion: 7}, &Refuse{Reason: RefuseVersionGap}},
		{"bad", "l1", Update{FromVersion: 5, ToVersion: 5}, &Refuse{Reason: RefuseBadUpdate}},
		{"full", "l2", Update{Full: true, ToVersion: 1}, &Refuse{Reason: RefuseFull, TryUltrapeers: try}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Handle(owner(tc.id), tc.u, try)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("Handle = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRegistryConcurrent(t *testing.T) {
	r := NewRegistry(0)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			id := fmt.Sprintf("leaf-%d", w)
			for v := range uint64(50) {
				u := Update{FromVersion: v, ToVersion: v + 1, Add: []Entry{entry(fmt.Sprintf("common/f%d", v))}}
				if v == 0 {
					u = Update{Full: true, ToVersion: 1, Add: u.Add}
				}
				if _, err := r.Apply(owner(id), u); err != nil {
					t.Error(err)
					return
				}
				r.Match([]string{"common"}, nil, 10)
				r.Keywords()
			}
		})
	}
	wg.Wait()
	if n := len(paths(r.Match([]string{"common"}, nil, 0))); n != 4*50 {
		t.Fatalf("%d matches, want 200", n)
	}
}

func TestDiff(t *testing.T) {
	a, b, c := entry("a"), entry("b"), entry("c")
	b2 := b
	b2.Size++
	add, remove := Diff([]Entry{c, a, b}, []Entry{b2, a, entry("d")})
	if got := paths([]OwnerMatch{{Entries: add}}); !slices.Equal(got, []string{":b", ":d"}) {
		t.Fatalf("add = %v", got)
	}
	if !slices.Equal(remove, []string{"c"}) {
		t.Fatalf("remove = %v", remove)
	}
	if _, ok := Delta(3, []Entry{a}, []Entry{a}); ok {
		t.Fatal("Delta of equal snapshots")
	}
	u, ok := Delta(3, []Entry{a}, []Entry{b})
	if !ok || u.Full || u.FromVersion != 3 || u.ToVersion != 4 || len(u.Add) != 1 || len(u.Remove) != 1 {
		t.Fatalf("Delta = %+v", u)
	}
	// Applying the delta to a registry holding old yields new.
	r := NewRegistry(0)
	mustApply(t, r, "l", Update{Full: true, ToVersion: 3, Add: []Entry{a}})
	mustApply(t, r, "l", u)
	if got := paths(r.Match([]string{"b"}, nil, 0)); !slices.Equal(got, []string{"l:b"}) || len(r.Match([]string{"a"}, nil, 0)) != 0 {
		t.Fatalf("after delta: %v", got)
	}
}

func BenchmarkMatch(b *testing.B) {
	r := NewRegistry(0)
	for l := range 60 {
		var es []Entry
		for f := range 1000 {
			es = append(es, entry(fmt.Sprintf("music/artist%d/album%d/track%d.mp3", f%50, f%7, f)))
		}
		if _, err := r.Apply(owner(fmt.Sprintf("leaf-%d", l)), Update{Full: true, ToVersion: 1, Add: es}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Match([]string{"music", "artist7", "album3"}, nil, 100)
	}
}

func TestRegistryHashes(t *testing.T) {
	r := NewRegistry(0)
	a, b := content.Hash{1}, content.Hash{2}
	owner := func(id string) Owner { return Owner{ID: id} }
	r.Apply(owner("l1"), Update{Full: true, ToVersion: 1, Add: []Entry{{Path: "x", Hash: b}, {Path: "y", Hash: a}}})
	r.ApplySelf(owner("me"), Update{Full: true, ToVersion: 1, Add: []Entry{{Path: "z", Hash: b}}})
	if got := r.Hashes(); !slices.Equal(got, []content.Hash{a, b}) {
		t.Fatalf("Hashes() = %x", got)
	}
	r.Drop("l1")
	if got := r.Hashes(); !slices.Equal(got, []content.Hash{b}) {
		t.Fatalf("after drop: Hashes() = %x", got)
	}
}

// TestRegistryPartialEntries: a partial entry (a download in progress)
// answers a query by its hash, marked partial, never a keyword query, and
// its hash reaches the QRP table's input; an ultrapeer that does not know
// the mark (it indexes the wire's keyword as given) also answers it by
// hash only.
func TestRegistryPartialEntries(t *testing.T) {
	r := NewRegistry(0)
	h := content.Hash{7}
	mustApply(t, r, "l1", Update{Full: true, ToVersion: 1, Add: []Entry{{Path: "maps/evacuation.pdf", Size: 9, Hash: h, Partial: true}}})
	mustApply(t, r, "old", Update{Full: true, ToVersion: 1, Add: []Entry{{Path: "maps/evacuation.pdf", Size: 9, Hash: h, Keywords: []string{PartialKeyword}}}})
	if got := paths(r.Match([]string{"evacuation"}, nil, 0)); len(got) != 0 {
		t.Errorf("keyword query found %v", got)
	}
	if got := paths(r.Match([]string{"evac"}, nil, 0)); len(got) != 0 {
		t.Errorf("prefix query found %v", got)
	}
	m := r.Match(nil, &h, 0)
	if got := paths(m); !slices.Equal(got, []string{"l1:maps/evacuation.pdf", "old:maps/evacuation.pdf"}) {
		t.Fatalf("hash query found %v", got)
	}
	if !m[0].Entries[0].Partial || len(m[0].Entries[0].Keywords) != 0 {
		t.Errorf("entry %+v: want partial, no keywords", m[0].Entries[0])
	}
	if got := r.Hashes(); !slices.Equal(got, []content.Hash{h}) {
		t.Errorf("Hashes() = %x", got)
	}
	if kw := r.Keywords(); len(kw) != 0 {
		t.Errorf("Keywords() = %q", kw)
	}
	hits := Index{Registry: r}.Match(&query.Query{Hash: h})
	if len(hits) != 2 || !hits[0].Results[0].Partial {
		t.Errorf("hits %+v: want the first one's result partial", hits)
	}
}
