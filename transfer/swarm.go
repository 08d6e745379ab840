package transfer

import (
	"errors"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/servent-p2p/servent/content"
)

// Bounds of the download mesh a Swarm keeps.
const (
	// meshHolders caps the holders remembered per file.
	meshHolders = 32
	// meshFiles caps the files the mesh remembers holders of.
	meshFiles = 256
	// meshTTL: a holder not heard of for this long is forgotten.
	meshTTL = 10 * time.Minute
)

// Swarm is what a Downloader and a Server of one node share so that the
// node takes part in swarming: the downloads in progress, whose verified
// chunks the server serves, and the download mesh, the holders of each
// file heard of in transfers, by key. A nil *Swarm is valid and means
// swarming is off: nothing partial is served, no alternate location is
// sent or used. Safe for concurrent use.
type Swarm struct {
	self   Key
	linger time.Duration

	mu        sync.Mutex
	active    map[content.Hash]*activeDownload
	mesh      map[content.Hash][]holder
	lingering map[*activeDownload]*time.Timer
	seeding   map[content.Hash]map[int]sendMark // chunks sent to swarm members
	uploads   map[Key]bool                      // members being sent a chunk now
	closed    bool
	onChange  func() // InProgress may answer otherwise; nil: nobody asks
}

// holder is one entry of the mesh.
type holder struct {
	key  Key
	seen time.Time
}

// DefaultLinger is how long a finished download goes on being served.
const DefaultLinger = time.Minute

// NewSwarm returns a Swarm for the node whose key fingerprint is self:
// the key it announces as a holder in X-Alt. A finished download goes on
// being served from its final file for linger (0: DefaultLinger), so the
// downloaders that started with it are not left without its chunks.
func NewSwarm(self Key, linger time.Duration) *Swarm {
	if linger <= 0 {
		linger = DefaultLinger
	}
	return &Swarm{self: self, linger: linger, active: make(map[content.Hash]*activeDownload),
		mesh: make(map[content.Hash][]holder), lingering: make(map[*activeDownload]*time.Timer),
		seeding: make(map[content.Hash]map[int]sendMark), uploads: make(map[Key]bool)}
}

// lingerOn serves the finished download dl from its final file at path
// for the Swarm's linger time. The file is opened for each read only, so
// it can be moved, deleted or unmounted at once (it is then no longer
// served; a changed file fails the downloaders' verification).
func (s *Swarm) lingerOn(dl *Download, path string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	a := &activeDownload{dl: dl, p: &partial{path: path}}
	s.active[dl.Hash] = a
	s.lingering[a] = time.AfterFunc(s.linger, func() {
		s.mu.Lock()
		_, ok := s.lingering[a]
		delete(s.lingering, a)
		s.mu.Unlock()
		if ok {
			s.unregister(a)
		}
	})
}

// unregister stops serving a and waits for its reads in progress.
func (s *Swarm) unregister(a *activeDownload) {
	s.mu.Lock()
	if s.active[a.dl.Hash] == a {
		delete(s.active, a.dl.Hash)
	}
	notify := s.listedLocked(a, false)
	s.mu.Unlock()
	notify()
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
}

// Close stops serving finished downloads at once. Safe to call twice.
func (s *Swarm) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.closed = true
	var as []*activeDownload
	for a, t := range s.lingering {
		t.Stop()
		as = append(as, a)
	}
	clear(s.lingering)
	s.mu.Unlock()
	for _, a := range as {
		s.unregister(a)
	}
}

// activeDownload is a download in progress, served while it runs.
type activeDownload struct {
	dl *Download
	p  *partial
	// learn is told of holders the server hears of; it must not block.
	// Nil for a finished download served from its final file.
	learn func([]Key)
	// listed: InProgress lists it (it runs and has a verified chunk).
	// Guarded by the Swarm's mu.
	listed bool

	mu     sync.RWMutex // read-held while a chunk is read for serving
	closed bool
}

// errPartialGone: the download ended while its chunk was asked for.
var errPartialGone = errors.New("download ended")

// read copies verified bytes [off, off+len(buf)) of the partial file
// into buf. It reports false when a chunk in that range is not verified.
func (a *activeDownload) read(buf []byte, off int64) (bool, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return false, errPartialGone
	}
	for c := off / content.ChunkSize; c*content.ChunkSize < off+int64(len(buf)); c++ {
		if !a.p.isVerified(a.dl, int(c)) {
			return false, nil
		}
	}
	f := a.p.f
	if f == nil { // finished: read from the final file, never held open
		var err error
		if f, err = os.OpenFile(a.p.path, os.O_RDONLY|oNoFollow, 0); err != nil {
			return false, errPartialGone
		}
		defer f.Close()
	}
	_, err := f.ReadAt(buf, off)
	return err == nil, err
}

// have returns a copy of the verified bitmap.
func (a *activeDownload) have() []byte {
	a.p.mu.Lock()
	defer a.p.mu.Unlock()
	return slices.Clone(a.dl.Verified)
}

// add registers a download in progress so its verified chunks are served;
// the returned function unregisters it and must be called before the
// partial file is closed. learn is told of holders heard of meanwhile.
func (s *Swarm) add(dl *Download, p *partial, learn func([]Key)) (remove func()) {
	if s == nil {
		return func() {}
	}
	if learn == nil {
		learn = func([]Key) {}
	}
	a := &activeDownload{dl: dl, p: p, learn: learn}
	resumed := countBits(a.have(), content.NumChunks(dl.Size)) > 0
	s.mu.Lock()
	s.active[dl.Hash] = a
	notify := s.listedLocked(a, resumed)
	s.mu.Unlock()
	notify()
	return func() { s.unregister(a) }
}

// partial returns the download in progress of h, or nil.
func (s *Swarm) partial(h content.Hash) *activeDownload {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active[h]
}

// heard records that key holds (part of) h, as of now. A download of h in
// progress here learns of it as a new source.
func (s *Swarm) heard(h content.Hash, key Key, now time.Time) {
	if s == nil || key == s.self || key == (Key{}) {
		return
	}
	s.mu.Lock()
	hs, known := s.mesh[h]
	if !known && len(s.mesh) >= meshFiles {
		s.evictOldest()
	}
	hs = slices.DeleteFunc(hs, func(x holder) bool { return x.key == key || now.Sub(x.seen) > meshTTL })
	hs = append(hs, holder{key: key, seen: now})
	if len(hs) > meshHolders {
		hs = hs[len(hs)-meshHolders:]
	}
	s.mesh[h] = hs
	a := s.active[h]
	s.mu.Unlock()
	if a != nil && a.learn != nil {
		a.learn([]Key{key})
	}
}

// evictOldest forgets the file whose newest holder is the oldest. Called
// with mu held.
func (s *Swarm) evictOldest() {
	var oldest content.Hash
	var at time.Time
	for h, hs := range s.mesh {
		if last := hs[len(hs)-1].seen; at.IsZero() || last.Before(at) {
			oldest, at = h, last
		}
	}
	delete(s.mesh, oldest)
}

// holders returns up to maxAlts holders of h heard of within meshTTL,
// newest first, without except.
func (s *Swarm) holders(h content.Hash, except Key, now time.Time) []Key {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Key
	hs := s.mesh[h]
	for i := len(hs) - 1; i >= 0 && len(out) < maxAlts; i-- {
		if hs[i].key != except && now.Sub(hs[i].seen) <= meshTTL {
			out = append(out, hs[i].key)
		}
	}
	return out
}
