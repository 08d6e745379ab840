package ultrapeer

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// libraryEntries returns n entries of a music library with paths of
// about 90 bytes and their keywords supplied, as a leaf sends its catalog.
func libraryEntries(n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		e := &out[i]
		e.Path = fmt.Sprintf("Music/Artist Name %d/Album Title %d (2019)/Disc 1/%02d - Some Song Title %d.flac", i/500, i/12, i%12, i)
		e.Size = int64(3<<20 + i)
		e.Hash[0], e.Hash[1], e.Hash[2] = byte(i), byte(i>>8), byte(i>>16)
		e.Keywords = []string{"music", "artist", "name", fmt.Sprint(i / 500), "album", "title", fmt.Sprint(i / 12),
			"2019", "disc", "1", fmt.Sprintf("%02d", i%12), "some", "song", fmt.Sprint(i), "flac"}
	}
	return out
}

// TestIndexInParts is item 12 of issue 14: a 100,000-file library does
// not fit one index frame; split into parts it crosses the wire, is
// assembled, and every entry is held.
func TestIndexInParts(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 entries: run without -short")
	}
	start := time.Now()
	u := Update{Full: true, ToVersion: 1, Add: libraryEntries(100_000)}
	if _, err := AppendFrame(nil, &Register{Owner: owner("l"), Update: u}); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("one frame for 100,000 files: %v, want ErrFrameTooLarge", err)
	}
	parts := SplitUpdate(u, PartBytes)
	var wire bytes.Buffer
	for i, p := range parts {
		var m Message = &p
		if i == 0 {
			m = &Register{Owner: owner("l"), Update: p}
		}
		n := wire.Len()
		if err := WriteFrame(&wire, m); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if size := wire.Len() - n; size > PartBytes+64<<10 {
			t.Errorf("part %d takes %d bytes, want about %d at most", i, size, PartBytes)
		}
	}
	total := wire.Len()
	a := NewAssembler(2 * DefaultBudget().Bytes)
	var got Update
	for i := range parts {
		m, err := ReadFrame(&wire)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := m.(*Update)
		if r, isReg := m.(*Register); isReg {
			p, ok = &r.Update, true
		}
		if !ok || p.More != (i < len(parts)-1) {
			t.Fatalf("part %d: %T more=%v", i, m, p.More)
		}
		whole, dropped, done, err := a.Add(*p)
		if err != nil || dropped != 0 || done != (i == len(parts)-1) {
			t.Fatalf("part %d: done=%v dropped=%d err=%v", i, done, dropped, err)
		}
		got = whole
	}
	if got.More || !got.Full || got.ToVersion != 1 || len(got.Add) != len(u.Add) {
		t.Fatalf("assembled: full=%v more=%v to=%d, %d entries", got.Full, got.More, got.ToVersion, len(got.Add))
	}
	r := NewRegistry(0)
	res, err := r.ApplyResult(owner("l"), got)
	if err != nil || res.Dropped != 0 {
		t.Fatalf("apply: %+v %v", res, err)
	}
	if n := r.OwnerEntries("l"); n != 100_000 {
		t.Fatalf("held %d entries, want 100000", n)
	}
	want := u.Add[77_777]
	m := r.Match([]string{"song", "77777"}, nil, 0)
	if len(m) != 1 || len(m[0].Entries) != 1 || m[0].Entries[0].Path != want.Path || m[0].Entries[0].Hash != want.Hash {
		t.Fatalf("match of one file among 100,000: %+v", m)
	}
	t.Logf("100,000 files: %d parts, %.1f MiB on the wire, charged %.1f MiB, in %v",
		len(parts), float64(total)/(1<<20), float64(r.snapshot()[0].idx.cost)/(1<<20), time.Since(start).Round(time.Millisecond))
}

func TestAssembler(t *testing.T) {
	e := func(p string) Entry { return Entry{Path: p, Keywords: []string{"k"}} }
	t.Run("one part", func(t *testing.T) {
		a := NewAssembler(1 << 20)
		u, dropped, done, err := a.Add(Update{FromVersion: 1, ToVersion: 2, Add: []Entry{e("a")}, Remove: []string{"b"}})
		if !done || err != nil || dropped != 0 || len(u.Add) != 1 || len(u.Remove) != 1 {
			t.Fatalf("%+v %d %v %v", u, dropped, done, err)
		}
	})
	t.Run("holds at most its limit", func(t *testing.T) {
		one := entryMemSize(e("0000"))
		a := NewAssembler(10 * one)
		for i := range 100 {
			if _, _, done, err := a.Add(Update{Full: true, ToVersion: 1, More: true, Add: []Entry{e(fmt.Sprintf("%04d", i))}}); done || err != nil {
				t.Fatalf("part %d: done=%v err=%v", i, done, err)
			}
		}
		u, dropped, done, err := a.Add(Update{Full: true, ToVersion: 1})
		if !done || err != nil || len(u.Add) != 10 || dropped != 90 {
			t.Fatalf("after 100 parts of one entry, limit 10: %d held, %d dropped, done=%v, err=%v", len(u.Add), dropped, done, err)
		}
	})
	t.Run("a part of another update", func(t *testing.T) {
		a := NewAssembler(1 << 20)
		a.Add(Update{Full: true, ToVersion: 3, More: true, Add: []Entry{e("a")}})
		if _, _, _, err := a.Add(Update{Full: true, ToVersion: 4}); !errors.Is(err, ErrBadUpdate) {
			t.Fatalf("mismatched part: %v, want ErrBadUpdate", err)
		}
		u, _, done, err := a.Add(Update{Full: true, ToVersion: 4, Add: []Entry{e("b")}})
		if !done || err != nil || !slices.Equal(paths([]OwnerMatch{{Entries: u.Add}}), []string{":b"}) {
			t.Fatalf("after a reset: %+v %v %v", u, done, err)
		}
	})
}

func TestSplitUpdateSmall(t *testing.T) {
	u := Update{FromVersion: 2, ToVersion: 3, Add: []Entry{entry("a")}, Remove: []string{"b"}}
	parts := SplitUpdate(u, PartBytes)
	if len(parts) != 1 || parts[0].More || !slices.Equal(parts[0].Remove, u.Remove) || len(parts[0].Add) != 1 {
		t.Fatalf("SplitUpdate of a small update = %+v", parts)
	}
	parts = SplitUpdate(Update{Full: true, ToVersion: 1, Add: []Entry{entry("a"), entry("b"), entry("c")}}, 1)
	if len(parts) != 3 || !parts[0].More || !parts[1].More || parts[2].More || !parts[2].Full {
		t.Fatalf("one entry per part: %+v", parts)
	}
}
