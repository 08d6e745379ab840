package ultrapeer

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/google/btree"

	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/storage"
)

// MaxEntriesPerOwner bounds one owner's index, so that a leaf cannot grow
// an ultrapeer's memory without limit. Deltas are checked against it
// before their removals are counted.
const MaxEntriesPerOwner = 1 << 20

// Registry errors. A leaf that gets ErrVersionGap resends its full index.
var (
	ErrFull       = errors.New("ultrapeer has its maximum number of leaves")
	ErrVersionGap = errors.New("index version gap: resend the full index")
	ErrBadUpdate  = errors.New("invalid index update")
)

// Owner is a node whose files are in a Registry: a leaf or the ultrapeer
// itself.
type Owner struct {
	// ID is the node name (memberlist name).
	ID string
	// Addr is the node's QUIC address, where its files are fetched.
	Addr netip.AddrPort
	// Fingerprint is the SHA-256 of the node's public key, pinned by QUIC.
	Fingerprint [32]byte
}

// Entry is one shared file as a leaf registers it.
type Entry struct {
	// Path is the share-relative path; unique within one owner.
	Path string
	// Size is the file size in bytes.
	Size int64
	// Hash is the content hash.
	Hash storage.Hash
	// Keywords are the file's search words. When empty, the registry uses
	// storage.Keywords(Path); either way they are normalised again with
	// storage.Keywords.
	Keywords []string
}

// Update changes one owner's index: a full replacement, or a delta from
// version FromVersion to ToVersion (FromVersion < ToVersion). Remove is
// applied before Add; an Add for a registered path replaces that entry.
type Update struct {
	// Full replaces the owner's whole index by Add (Remove must be empty),
	// whatever the registered version; FromVersion is ignored.
	Full bool
	// FromVersion is the version the delta applies to.
	FromVersion uint64
	// ToVersion is the owner's version once the update is applied.
	ToVersion uint64
	// Add lists new or changed entries.
	Add []Entry
	// Remove lists the paths of entries that are gone.
	Remove []string
}

// OwnerMatch is the matching entries of one owner.
type OwnerMatch struct {
	// Owner is the node that holds the files.
	Owner Owner
	// Entries are its matching entries (copies), sorted by path.
	Entries []Entry
}

// docID indexes Registry.docs.
type docID uint32

// doc is one registered entry with its normalised keywords.
type doc struct {
	owner *ownerState
	entry Entry
}

// ownerState is what the registry holds for one owner.
type ownerState struct {
	owner   Owner
	self    bool
	version uint64
	byPath  map[string]docID
}

// postings is a set of documents.
type postings map[docID]struct{}

// Registry is an ultrapeer's inverted keyword index of its leaves and of
// itself. It enforces the leaf cap and the version rules of Update. All
// methods are safe for concurrent use and never block on I/O.
type Registry struct {
	mu        sync.RWMutex
	maxLeaves int
	leaves    int
	version   uint64
	owners    map[string]*ownerState
	docs      []doc
	free      []docID
	words     map[string]postings
	sorted    *btree.BTreeG[string] // the keys of words, for prefix matches
	hashes    map[storage.Hash]postings
}

// NewRegistry returns an empty registry that accepts at most maxLeaves
// leaves (maxLeaves <= 0: no limit). The ultrapeer's own index, registered
// with ApplySelf, does not count.
func NewRegistry(maxLeaves int) *Registry {
	return &Registry{
		maxLeaves: maxLeaves,
		owners:    make(map[string]*ownerState),
		words:     make(map[string]postings),
		sorted:    btree.NewOrderedG[string](16),
		hashes:    make(map[storage.Hash]postings),
	}
}

// Apply applies a leaf's update and reports whether it changed anything.
//   - Full: replaces the owner's index and version; registers the owner if
//     new, unless the registry is Full (ErrFull).
//   - Delta for an unknown owner, or with FromVersion != the registered
//     version: ErrVersionGap, nothing changes (the leaf resends a full
//     index).
//   - Delta with ToVersion <= the registered version: an already applied
//     retry, (false, nil).
//   - Malformed update (empty path, negative size, Full with Remove, delta
//     with ToVersion <= FromVersion, more than MaxEntriesPerOwner entries):
//     ErrBadUpdate, nothing changes.
//
// The owner's address and fingerprint are refreshed from owner on every
// applied update.
func (r *Registry) Apply(owner Owner, u Update) (applied bool, err error) {
	applied, _, err = r.apply(owner, u, false)
	return applied, err
}

// ApplySelf is Apply for the ultrapeer's own shares: that owner never counts
// against the leaf cap and is not listed by Leaves.
func (r *Registry) ApplySelf(owner Owner, u Update) (applied bool, err error) {
	applied, _, err = r.apply(owner, u, true)
	return applied, err
}

// apply implements Apply and ApplySelf and also returns the owner's version
// after the call.
func (r *Registry) apply(owner Owner, u Update, self bool) (bool, uint64, error) {
	if err := validate(u); err != nil {
		return false, 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.owners[owner.ID]
	if !u.Full {
		switch {
		case st == nil:
			return false, 0, fmt.Errorf("%w: %q is not registered", ErrVersionGap, owner.ID)
		case u.ToVersion <= st.version:
			return false, st.version, nil
		case u.FromVersion != st.version:
			return false, st.version, fmt.Errorf("%w: have %d, update from %d", ErrVersionGap, st.version, u.FromVersion)
		}
	}
	held := 0
	if st != nil && !u.Full {
		held = len(st.byPath)
	}
	if held+len(u.Add) > MaxEntriesPerOwner {
		return false, 0, fmt.Errorf("%w: more than %d entries", ErrBadUpdate, MaxEntriesPerOwner)
	}
	if st == nil {
		if !self && r.maxLeaves > 0 && r.leaves >= r.maxLeaves {
			return false, 0, ErrFull
		}
		st = &ownerState{self: self, byPath: make(map[string]docID)}
		r.owners[owner.ID] = st
		if !self {
			r.leaves++
		}
	}
	st.owner = owner
	if u.Full {
		for _, id := range st.byPath {
			r.unindex(id)
		}
		clear(st.byPath)
	}
	for _, p := range u.Remove {
		if id, ok := st.byPath[p]; ok {
			r.unindex(id)
			delete(st.byPath, p)
		}
	}
	for _, e := range u.Add {
		if id, ok := st.byPath[e.Path]; ok {
			r.unindex(id)
		}
		st.byPath[e.Path] = r.index(st, e)
	}
	st.version = u.ToVersion
	r.version++
	return true, st.version, nil
}

// validate checks an update before any state changes.
func validate(u Update) error {
	if u.Full && len(u.Remove) > 0 {
		return fmt.Errorf("%w: full update with removals", ErrBadUpdate)
	}
	if !u.Full && u.ToVersion <= u.FromVersion {
		return fmt.Errorf("%w: delta from %d to %d", ErrBadUpdate, u.FromVersion, u.ToVersion)
	}
	for _, e := range u.Add {
		if e.Path == "" || e.Size < 0 {
			return fmt.Errorf("%w: entry %q size %d", ErrBadUpdate, e.Path, e.Size)
		}
	}
	return nil
}

// normKeywords returns e's normalised, de-duplicated keywords.
func normKeywords(e Entry) []string {
	if len(e.Keywords) == 0 {
		return storage.Keywords(e.Path)
	}
	return storage.Keywords(strings.Join(e.Keywords, " "))
}

// index stores e for st and returns its document. Caller holds r.mu.
func (r *Registry) index(st *ownerState, e Entry) docID {
	e.Keywords = normKeywords(e)
	var id docID
	if n := len(r.free); n > 0 {
		id, r.free = r.free[n-1], r.free[:n-1]
		r.docs[id] = doc{owner: st, entry: e}
	} else {
		id = docID(len(r.docs))
		r.docs = append(r.docs, doc{owner: st, entry: e})
	}
	for _, w := range e.Keywords {
		if add(r.words, w, id) {
			r.sorted.ReplaceOrInsert(w)
		}
	}
	add(r.hashes, e.Hash, id)
	return id
}

// unindex removes a document. Caller holds r.mu.
func (r *Registry) unindex(id docID) {
	d := r.docs[id]
	for _, w := range d.entry.Keywords {
		if remove(r.words, w, id) {
			r.sorted.Delete(w)
		}
	}
	remove(r.hashes, d.entry.Hash, id)
	r.docs[id] = doc{}
	r.free = append(r.free, id)
}

// add adds id to k's postings and reports whether k is new.
func add[K comparable](m map[K]postings, k K, id docID) bool {
	p := m[k]
	if p == nil {
		p = make(postings)
		m[k] = p
	}
	p[id] = struct{}{}
	return len(p) == 1
}

// remove removes id from k's postings and reports whether k is gone.
func remove[K comparable](m map[K]postings, k K, id docID) bool {
	p := m[k]
	delete(p, id)
	if len(p) == 0 {
		delete(m, k)
		return true
	}
	return false
}

// Drop removes an owner and its whole index (the leaf left, died or attached
// elsewhere) and reports whether it was registered.
func (r *Registry) Drop(ownerID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.owners[ownerID]
	if st == nil {
		return false
	}
	for _, id := range st.byPath {
		r.unindex(id)
	}
	delete(r.owners, ownerID)
	if !st.self {
		r.leaves--
	}
	r.version++
	return true
}

// Leaves returns the IDs of the registered leaves (not self), sorted.
func (r *Registry) Leaves() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, r.leaves)
	for id, st := range r.owners {
		if !st.self {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Full reports whether the leaf cap is reached: a new leaf would get ErrFull.
func (r *Registry) Full() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.maxLeaves > 0 && r.leaves >= r.maxLeaves
}

// OwnerVersion returns the registered index version of an owner.
func (r *Registry) OwnerVersion(ownerID string) (version uint64, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if st := r.owners[ownerID]; st != nil {
		return st.version, true
	}
	return 0, false
}

// Version is a counter that grows on every change of the registry's content
// (applied update, drop): compare it to know when to rebuild a QRP table.
func (r *Registry) Version() uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.version
}

// Hashes returns the content hash of every registered entry, sorted, each
// once: with Keywords, the input of the ultrapeer's QRP table (URN queries
// route on the hash).
func (r *Registry) Hashes() []storage.Hash {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]storage.Hash, 0, len(r.hashes))
	for h := range r.hashes {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b storage.Hash) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// Keywords returns every distinct keyword of every registered entry, sorted:
// the input of the ultrapeer's QRP table.
func (r *Registry) Keywords() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.words))
	for w := range r.words {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

// Match returns the entries that match a query, grouped by owner, owners
// sorted by ID and entries by path; at most limit entries in all (limit <= 0:
// no limit): those with the most exact word matches, then by owner and
// path.
//
// Matching rule: words are normalised with storage.QueryWords; an entry
// matches when every query word matches one of its keywords as
// query.WordMatch says (equal, or a prefix for words of query.MinPrefix
// characters or more), and, when urn is not nil, its hash equals *urn. A
// query with neither words nor urn matches nothing. query.MatchFile is the
// same rule for a plain list of files.
func (r *Registry) Match(words []string, urn *storage.Hash, limit int) []OwnerMatch {
	words = storage.QueryWords(strings.Join(words, " "))
	if len(words) == 0 && urn == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	lists := make([]map[docID]bool, 0, len(words)+1) // doc → exact match
	for _, w := range words {
		l := r.wordPostings(w)
		if len(l) == 0 {
			return nil
		}
		lists = append(lists, l)
	}
	if urn != nil {
		p := r.hashes[*urn]
		if len(p) == 0 {
			return nil
		}
		l := make(map[docID]bool, len(p))
		for id := range p {
			l[id] = false
		}
		lists = append(lists, l)
	}
	slices.SortFunc(lists, func(a, b map[docID]bool) int { return len(a) - len(b) })
	type hit struct {
		id    docID
		exact int
	}
	var hits []hit
next:
	for id := range lists[0] {
		h := hit{id: id}
		for _, l := range lists {
			ex, ok := l[id]
			if !ok {
				continue next
			}
			if ex {
				h.exact++
			}
		}
		hits = append(hits, h)
	}
	byOwnerPath := func(a, b docID) int {
		da, db := &r.docs[a], &r.docs[b]
		if c := strings.Compare(da.owner.owner.ID, db.owner.owner.ID); c != 0 {
			return c
		}
		return strings.Compare(da.entry.Path, db.entry.Path)
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.exact != b.exact {
			return b.exact - a.exact
		}
		return byOwnerPath(a.id, b.id)
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	ids := make([]docID, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	slices.SortFunc(ids, byOwnerPath)
	var out []OwnerMatch
	for _, id := range ids {
		d := &r.docs[id]
		if len(out) == 0 || out[len(out)-1].Owner.ID != d.owner.owner.ID {
			out = append(out, OwnerMatch{Owner: d.owner.owner})
		}
		e := d.entry
		e.Keywords = slices.Clone(e.Keywords)
		last := &out[len(out)-1]
		last.Entries = append(last.Entries, e)
	}
	return out
}

// wordPostings returns the documents one query word matches, each with
// whether it matches exactly: the word's own postings, and for a prefix
// word those of every keyword it starts. Caller holds r.mu.
func (r *Registry) wordPostings(w string) map[docID]bool {
	out := make(map[docID]bool, len(r.words[w]))
	if query.IsPrefixWord(w) {
		r.sorted.AscendGreaterOrEqual(w, func(k string) bool {
			if !strings.HasPrefix(k, w) {
				return false
			}
			for id := range r.words[k] {
				out[id] = false
			}
			return true
		})
	}
	for id := range r.words[w] {
		out[id] = true
	}
	return out
}
