package ultrapeer

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/servent-p2p/servent/content"
)

// MaxEntriesPerOwner bounds one owner's index and one update; a leaf's
// Budget normally binds first.
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
	Hash content.Hash
	// Keywords are the file's search words. When empty, the registry uses
	// content.Keywords(Path); either way they are normalised again with
	// content.Keywords. A partial entry has none.
	Keywords []string
	// Partial: the owner holds only part of the file, a download in
	// progress (Gnutella's PFSP). The entry answers queries by hash only,
	// never by words, and its hits are marked partial.
	Partial bool
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
	// More says, on the wire, that another part of this update follows
	// (see SplitUpdate and Assembler); the Registry ignores it.
	More bool
}

// OwnerMatch is the matching entries of one owner.
type OwnerMatch struct {
	// Owner is the node that holds the files.
	Owner Owner
	// Entries are its matching entries (copies), sorted by path.
	Entries []Entry
}

// ownerState is what the registry holds for one owner. It is replaced,
// never modified, so a reader may use it after releasing the lock.
type ownerState struct {
	owner   Owner
	self    bool
	version uint64
	idx     *ownerIndex
}

// Registry is an ultrapeer's keyword index of its leaves and of itself:
// one immutable ownerIndex per owner. It enforces the leaf cap, the
// version rules of Update and each leaf's Budget. Updates are built
// outside the lock that queries take, so a big index never stalls query
// answering. All methods are safe for concurrent use and never block on
// I/O; updates wait for each other.
type Registry struct {
	write sync.Mutex // serialises updates and drops

	mu        sync.RWMutex // guards the fields below; held only to swap
	maxLeaves int
	budget    Budget
	leaves    int
	version   uint64
	owners    map[string]*ownerState
}

// NewRegistry returns an empty registry that accepts at most maxLeaves
// leaves (maxLeaves <= 0: no limit), each within DefaultBudget. The
// ultrapeer's own index, registered with ApplySelf, does not count and
// has no budget.
func NewRegistry(maxLeaves int) *Registry {
	return &Registry{maxLeaves: maxLeaves, budget: DefaultBudget(), owners: make(map[string]*ownerState)}
}

// SetBudget sets the budget of every leaf for the updates that follow.
func (r *Registry) SetBudget(b Budget) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.budget = b
}

// Budget returns the budget of every leaf.
func (r *Registry) Budget() Budget {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.budget
}

// OwnerEntries returns the number of entries the registry holds for an
// owner (0 when it is not registered).
func (r *Registry) OwnerEntries(ownerID string) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if st := r.owners[ownerID]; st != nil {
		return st.idx.len()
	}
	return 0
}

// Result is the outcome of an applied update.
type Result struct {
	// Applied is false for a retry already applied.
	Applied bool
	// Version is the owner's registered version after the call.
	Version uint64
	// Dropped counts the entries left out by the budget.
	Dropped int
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
// Entries beyond the leaf's Budget are left out (see ApplyResult). The
// owner's address and fingerprint are refreshed from owner on every
// applied update.
func (r *Registry) Apply(owner Owner, u Update) (applied bool, err error) {
	res, err := r.apply(owner, u, false)
	return res.Applied, err
}

// ApplyResult is Apply with the whole Result.
func (r *Registry) ApplyResult(owner Owner, u Update) (Result, error) {
	return r.apply(owner, u, false)
}

// ApplySelf is Apply for the ultrapeer's own shares: that owner never counts
// against the leaf cap, has no budget and is not listed by Leaves.
func (r *Registry) ApplySelf(owner Owner, u Update) (applied bool, err error) {
	res, err := r.apply(owner, u, true)
	return res.Applied, err
}

// apply implements Apply and ApplySelf. It builds the new index holding
// only r.write, then swaps it in under r.mu.
func (r *Registry) apply(owner Owner, u Update, self bool) (Result, error) {
	if err := validate(u); err != nil {
		return Result{}, err
	}
	r.write.Lock()
	defer r.write.Unlock()
	r.mu.RLock()
	st, budget, full := r.owners[owner.ID], r.budget, r.maxLeaves > 0 && r.leaves >= r.maxLeaves
	r.mu.RUnlock()
	if !u.Full {
		switch {
		case st == nil:
			return Result{}, fmt.Errorf("%w: %q is not registered", ErrVersionGap, owner.ID)
		case u.ToVersion <= st.version:
			return Result{Version: st.version}, nil
		case u.FromVersion != st.version:
			return Result{Version: st.version}, fmt.Errorf("%w: have %d, update from %d", ErrVersionGap, st.version, u.FromVersion)
		}
	}
	if st == nil && !self && full {
		return Result{}, ErrFull
	}
	if self {
		budget = unlimited
	}
	var base *ownerIndex
	if st != nil {
		base = st.idx
	}
	b := buildIndex(base, u, budget)
	r.mu.Lock()
	defer r.mu.Unlock()
	if st == nil && !self {
		r.leaves++
	}
	r.owners[owner.ID] = &ownerState{owner: owner, self: self, version: u.ToVersion, idx: b.idx}
	r.version++
	return Result{Applied: true, Version: u.ToVersion, Dropped: b.dropped}, nil
}

// validate checks an update before any state changes.
func validate(u Update) error {
	if u.Full && len(u.Remove) > 0 {
		return fmt.Errorf("%w: full update with removals", ErrBadUpdate)
	}
	if !u.Full && u.ToVersion <= u.FromVersion {
		return fmt.Errorf("%w: delta from %d to %d", ErrBadUpdate, u.FromVersion, u.ToVersion)
	}
	if len(u.Add) > MaxEntriesPerOwner {
		return fmt.Errorf("%w: more than %d entries", ErrBadUpdate, MaxEntriesPerOwner)
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
	if e.Partial {
		return nil
	}
	if len(e.Keywords) == 0 {
		return content.Keywords(e.Path)
	}
	return content.Keywords(strings.Join(e.Keywords, " "))
}

// Drop removes an owner and its whole index (the leaf left, died or attached
// elsewhere) and reports whether it was registered.
func (r *Registry) Drop(ownerID string) bool {
	r.write.Lock()
	defer r.write.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.owners[ownerID]
	if st == nil {
		return false
	}
	delete(r.owners, ownerID)
	if !st.self {
		r.leaves--
	}
	r.version++
	return true
}

// snapshot returns the owners sorted by ID.
func (r *Registry) snapshot() []*ownerState {
	r.mu.RLock()
	out := make([]*ownerState, 0, len(r.owners))
	for _, st := range r.owners {
		out = append(out, st)
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b *ownerState) int { return strings.Compare(a.owner.ID, b.owner.ID) })
	return out
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

// Match returns the entries that match a query, grouped by owner, owners
// sorted by ID and entries by path; at most limit entries in all (limit <= 0:
// no limit): those with the most exact word matches, then by owner and
// path. It holds no lock while matching: an update being applied meanwhile
// is seen whole or not at all.
//
// Matching rule: words are normalised with content.QueryWords; an entry
// matches when every query word matches one of its keywords as
// query.WordMatch says (equal, or a prefix for words of query.MinPrefix
// characters or more), and, when urn is not nil, its hash equals *urn. A
// query with neither words nor urn matches nothing. query.MatchFile is the
// same rule for a plain list of files.
func (r *Registry) Match(words []string, urn *content.Hash, limit int) []OwnerMatch {
	words = content.QueryWords(strings.Join(words, " "))
	if len(words) == 0 && urn == nil {
		return nil
	}
	type hit struct {
		owner int
		docHit
	}
	owners := r.snapshot()
	var hits []hit
	for i, st := range owners {
		for _, h := range st.idx.match(words, urn) {
			hits = append(hits, hit{i, h})
		}
	}
	byOwnerPath := func(a, b hit) int {
		if c := cmp.Compare(a.owner, b.owner); c != 0 {
			return c
		}
		return cmp.Compare(a.doc, b.doc) // entries are sorted by path
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.exact != b.exact {
			return b.exact - a.exact
		}
		return byOwnerPath(a, b)
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	slices.SortFunc(hits, byOwnerPath)
	var out []OwnerMatch
	for _, h := range hits {
		st := owners[h.owner]
		if len(out) == 0 || out[len(out)-1].Owner.ID != st.owner.ID {
			out = append(out, OwnerMatch{Owner: st.owner})
		}
		last := &out[len(out)-1]
		last.Entries = append(last.Entries, st.idx.entry(int(h.doc)))
	}
	return out
}
