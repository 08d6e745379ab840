package ultrapeer

import "fmt"

// PartBytes is the size SplitUpdate aims each part at: well below
// MaxFrameSize, so that a library of any size attaches and one frame never
// holds a reader for long.
const PartBytes = 1 << 20

// SplitUpdate splits u into parts whose encodings take about maxBytes or
// less each (one entry is never split): every part carries u's Full,
// FromVersion and ToVersion, the removals come first, and every part but
// the last has More set. An update that fits is returned as one part.
func SplitUpdate(u Update, maxBytes int) []Update {
	head := Update{Full: u.Full, FromVersion: u.FromVersion, ToVersion: u.ToVersion}
	var parts []Update
	cur, size := head, 0
	flush := func() {
		cur.More = true
		parts = append(parts, cur)
		cur, size = head, 0
	}
	for _, p := range u.Remove {
		n := len(p) + 3
		if size > 0 && size+n > maxBytes {
			flush()
		}
		cur.Remove = append(cur.Remove, p)
		size += n
	}
	for _, e := range u.Add {
		n := entryWireSize(e)
		if size > 0 && size+n > maxBytes {
			flush()
		}
		cur.Add = append(cur.Add, e)
		size += n
	}
	return append(parts, cur)
}

// entryWireSize bounds the encoded size of e.
func entryWireSize(e Entry) int {
	n := len(e.Path) + 3 + 10 + len(e.Hash) + 2
	for _, k := range e.Keywords {
		n += len(k) + 2
	}
	if e.Partial {
		n += len(PartialKeyword) + 2
	}
	return n
}

// Assembler joins the parts of one update as they arrive. It holds at most
// limit bytes of entries (counted as they sit in memory: entryMemSize); the
// entries beyond are left out and counted in Dropped, so a leaf cannot make
// an ultrapeer buffer more than that by never sending the last part. Not
// safe for concurrent use.
type Assembler struct {
	limit   int64
	held    int64
	u       *Update
	dropped int
}

// NewAssembler returns an assembler holding at most limit bytes.
func NewAssembler(limit int64) *Assembler { return &Assembler{limit: limit} }

// Add adds the next part. It returns the whole update (More false) once
// its last part arrived, with the number of entries left out; done is false
// while parts are missing. A part whose Full, FromVersion or ToVersion
// differ from the first part's is ErrBadUpdate, and the assembler starts
// afresh.
func (a *Assembler) Add(p Update) (u Update, dropped int, done bool, err error) {
	if a.u == nil {
		a.u = &Update{Full: p.Full, FromVersion: p.FromVersion, ToVersion: p.ToVersion}
	} else if p.Full != a.u.Full || p.FromVersion != a.u.FromVersion || p.ToVersion != a.u.ToVersion {
		a.reset()
		return Update{}, 0, false, fmt.Errorf("%w: a part of another update", ErrBadUpdate)
	}
	for _, r := range p.Remove {
		if a.take(int64(len(r) + 16)) {
			a.u.Remove = append(a.u.Remove, r)
		}
	}
	for _, e := range p.Add {
		if a.take(entryMemSize(e)) {
			a.u.Add = append(a.u.Add, e)
		}
	}
	if p.More {
		return Update{}, 0, false, nil
	}
	u, dropped = *a.u, a.dropped
	a.reset()
	return u, dropped, true, nil
}

// take reserves n bytes, or counts a drop.
func (a *Assembler) take(n int64) bool {
	if a.held+n > a.limit {
		a.dropped++
		return false
	}
	a.held += n
	return true
}

func (a *Assembler) reset() { a.u, a.held, a.dropped = nil, 0, 0 }

// entryMemSize is what e takes in memory as decoded.
func entryMemSize(e Entry) int64 {
	n := int64(80 + len(e.Path))
	for _, k := range e.Keywords {
		n += int64(16 + len(k))
	}
	return n
}
