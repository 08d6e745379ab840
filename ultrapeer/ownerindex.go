package ultrapeer

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
)

// ownerIndex is one owner's entries and their inverted keyword index, in
// flat arrays. It is built once and never changed: an update builds a new
// one without holding any registry lock and swaps it in, so queries never
// wait for an update and never see half of one.
type ownerIndex struct {
	entries []docEntry // sorted by path
	kw      []uint32   // keyword ids of entry i: kw[entries[i].kwOff:entries[i+1].kwOff]
	words   []string   // distinct keywords, sorted
	postOff []uint32   // entries of words[w]: post[postOff[w]:postOff[w+1]], ascending
	post    []uint32
	byHash  []hashRef // sorted by hash, then entry
	cost    int64     // charged bytes (Budget)
	nkw     int       // len(kw)
}

type docEntry struct {
	path    string
	size    int64
	hash    content.Hash
	kwOff   uint32
	partial bool
}

type hashRef struct {
	hash content.Hash
	doc  uint32
}

// len returns the number of entries.
func (x *ownerIndex) len() int {
	if x == nil {
		return 0
	}
	return len(x.entries)
}

// keywords returns entry i's keywords.
func (x *ownerIndex) keywords(i int) []string {
	ids := x.kw[x.entries[i].kwOff:x.kwEnd(i)]
	out := make([]string, 0, len(ids))
	for _, w := range ids {
		out = append(out, x.words[w])
	}
	return out
}

// entry returns entry i as an Entry (a copy).
func (x *ownerIndex) entry(i int) Entry {
	e := &x.entries[i]
	return Entry{Path: e.path, Size: e.size, Hash: e.hash, Keywords: x.keywords(i), Partial: e.partial}
}

// find returns the index of the entry with path p.
func (x *ownerIndex) find(p string) (int, bool) {
	if x == nil {
		return 0, false
	}
	return slices.BinarySearchFunc(x.entries, p, func(e docEntry, p string) int { return strings.Compare(e.path, p) })
}

// buildResult is what building an index left out.
type buildResult struct {
	idx     *ownerIndex
	dropped int // entries left out by the budget
}

// buildIndex returns base (nil: empty) with u applied (u.Full: base is
// ignored), within budget b: the entries of base that u keeps come first,
// then u.Add in order (the last Add of a path wins); an entry that would
// exceed the budget is left out, and once maxMisses in a row were, all the
// rest are, unexamined (normalising keywords is the costly part). Keywords are normalised (normKeywords) and
// cut to b.EntryKeywords. Pure; base is not modified.
func buildIndex(base *ownerIndex, u Update, b Budget) buildResult {
	last := make(map[string]int, len(u.Add)) // path -> index of its last Add
	for i, e := range u.Add {
		last[e.Path] = i
	}
	var kept []Entry
	if !u.Full && base != nil {
		gone := make(map[string]bool, len(u.Remove))
		for _, p := range u.Remove {
			gone[p] = true
		}
		kept = make([]Entry, 0, base.len()+len(u.Add))
		for i := range base.entries {
			p := base.entries[i].path
			if _, replaced := last[p]; !replaced && !gone[p] {
				kept = append(kept, base.entry(i))
			}
		}
	}
	bld := newBuilder(len(kept)+len(u.Add), b)
	misses := 0 // entries in a row that did not fit
	for _, e := range kept {
		if !bld.add(e, e.Keywords) { // the budget was lowered since
			bld.dropped++
		}
	}
	for i, e := range u.Add {
		if last[e.Path] != i {
			continue
		}
		if misses >= maxMisses || !bld.fits(e) {
			bld.dropped++
			continue
		}
		kws := normKeywords(e)
		if len(kws) > b.EntryKeywords {
			kws = kws[:b.EntryKeywords]
		}
		if bld.add(e, kws) {
			misses = 0
		} else {
			bld.dropped++
			misses++
		}
	}
	return buildResult{idx: bld.finish(), dropped: bld.dropped}
}

// maxMisses ends the examination of an update's entries once the budget
// is full.
const maxMisses = 64

// builder collects entries within a budget and then lays out an
// ownerIndex.
type builder struct {
	budget  Budget
	cost    int64
	nkw     int
	dropped int
	ids     map[string]uint32 // word -> provisional id
	words   []string          // by provisional id
	entries []docEntry
	kws     [][]uint32 // provisional ids per entry
}

func newBuilder(n int, b Budget) *builder {
	return &builder{budget: b, ids: make(map[string]uint32), entries: make([]docEntry, 0, n), kws: make([][]uint32, 0, n)}
}

// fits reports whether e could fit with no keywords: a cheap check before
// normalising its keywords.
func (b *builder) fits(e Entry) bool {
	return b.cost+int64(EntryCost+len(e.Path)) <= b.budget.Bytes && len(b.entries) < MaxEntriesPerOwner
}

// add adds e with keywords kws unless that exceeds the budget.
func (b *builder) add(e Entry, kws []string) bool {
	c := int64(EntryCost + len(e.Path))
	for _, w := range kws {
		c += KeywordCost
		if _, ok := b.ids[w]; !ok {
			c += int64(WordCost + len(w)) // a repeat within kws is overcounted: harmless
		}
	}
	if b.cost+c > b.budget.Bytes || b.nkw+len(kws) > b.budget.Keywords || len(b.entries) >= MaxEntriesPerOwner {
		return false
	}
	b.cost += c
	b.nkw += len(kws)
	ids := make([]uint32, len(kws))
	for i, w := range kws {
		id, ok := b.ids[w]
		if !ok {
			id = uint32(len(b.words))
			b.ids[w] = id
			b.words = append(b.words, strings.Clone(w)) // not pinning a frame buffer
		}
		ids[i] = id
	}
	b.entries = append(b.entries, docEntry{path: e.Path, size: e.Size, hash: e.Hash, partial: e.Partial})
	b.kws = append(b.kws, ids)
	return true
}

// finish lays out the index: entries by path, words sorted, postings.
func (b *builder) finish() *ownerIndex {
	order := make([]int, len(b.entries))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return strings.Compare(b.entries[i].path, b.entries[j].path) })
	rank := make([]uint32, len(b.words)) // provisional id -> sorted id
	byWord := make([]uint32, len(b.words))
	for i := range byWord {
		byWord[i] = uint32(i)
	}
	slices.SortFunc(byWord, func(i, j uint32) int { return strings.Compare(b.words[i], b.words[j]) })
	x := &ownerIndex{cost: b.cost, nkw: b.nkw, words: make([]string, len(b.words))}
	for r, id := range byWord {
		rank[id] = uint32(r)
		x.words[r] = b.words[id]
	}
	x.entries = make([]docEntry, len(order))
	x.kw = make([]uint32, 0, b.nkw)
	x.byHash = make([]hashRef, len(order))
	count := make([]uint32, len(x.words)+1)
	for n, i := range order {
		e := b.entries[i]
		e.kwOff = uint32(len(x.kw))
		x.entries[n] = e
		for _, id := range b.kws[i] {
			x.kw = append(x.kw, rank[id])
			count[rank[id]+1]++
		}
		x.byHash[n] = hashRef{hash: e.hash, doc: uint32(n)}
	}
	for w := 1; w < len(count); w++ {
		count[w] += count[w-1]
	}
	x.postOff = count
	x.post = make([]uint32, len(x.kw))
	fill := slices.Clone(count[:len(x.words)])
	for n := range x.entries {
		for _, w := range x.kw[x.entries[n].kwOff:x.kwEnd(n)] {
			x.post[fill[w]] = uint32(n)
			fill[w]++
		}
	}
	slices.SortFunc(x.byHash, func(a, b hashRef) int {
		if c := bytes.Compare(a.hash[:], b.hash[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.doc, b.doc)
	})
	return x
}

// kwEnd is the end of entry n's keyword ids in kw.
func (x *ownerIndex) kwEnd(n int) uint32 {
	if n+1 < len(x.entries) {
		return x.entries[n+1].kwOff
	}
	return uint32(len(x.kw))
}

// postings returns the entries of word id w.
func (x *ownerIndex) postings(w int) []uint32 { return x.post[x.postOff[w]:x.postOff[w+1]] }

// wordMatches returns the entries one query word matches, ascending, and
// those it matches exactly: its own postings, and for a prefix word those
// of every keyword it starts (query.WordMatch).
func (x *ownerIndex) wordMatches(w string) (all, exact []uint32) {
	lo, found := slices.BinarySearch(x.words, w)
	if found {
		exact = x.postings(lo)
	}
	if !query.IsPrefixWord(w) {
		return exact, exact
	}
	var n int
	hi := lo
	for ; hi < len(x.words) && strings.HasPrefix(x.words[hi], w); hi++ {
		n += len(x.postings(hi))
	}
	if hi-lo == 1 {
		return x.postings(lo), exact
	}
	all = make([]uint32, 0, n)
	for i := lo; i < hi; i++ {
		all = append(all, x.postings(i)...)
	}
	slices.Sort(all)
	return slices.Compact(all), exact
}

// hashMatches returns the entries with content hash h, ascending.
func (x *ownerIndex) hashMatches(h content.Hash) []uint32 {
	i, _ := slices.BinarySearchFunc(x.byHash, h, func(r hashRef, h content.Hash) int { return bytes.Compare(r.hash[:], h[:]) })
	var out []uint32
	for ; i < len(x.byHash) && x.byHash[i].hash == h; i++ {
		out = append(out, x.byHash[i].doc)
	}
	return out
}

// docHit is a matching entry and how many query words match it exactly.
type docHit struct {
	doc   uint32
	exact int
}

// match returns the entries matching every word of words (normalised)
// and, when urn is not nil, with that hash; unordered.
func (x *ownerIndex) match(words []string, urn *content.Hash) []docHit {
	type list struct{ all, exact []uint32 }
	lists := make([]list, 0, len(words)+1)
	for _, w := range words {
		all, exact := x.wordMatches(w)
		if len(all) == 0 {
			return nil
		}
		lists = append(lists, list{all, exact})
	}
	if urn != nil {
		l := x.hashMatches(*urn)
		if len(l) == 0 {
			return nil
		}
		lists = append(lists, list{all: l})
	}
	slices.SortFunc(lists, func(a, b list) int { return len(a.all) - len(b.all) })
	var out []docHit
next:
	for _, d := range lists[0].all {
		h := docHit{doc: d}
		for _, l := range lists {
			if _, ok := slices.BinarySearch(l.all, d); !ok {
				continue next
			}
			if _, ok := slices.BinarySearch(l.exact, d); ok {
				h.exact++
			}
		}
		out = append(out, h)
	}
	return out
}
