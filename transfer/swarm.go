package transfer

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/servent-p2p/servent/storage"
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
	self Key

	mu     sync.Mutex
	active map[storage.Hash]*activeDownload
	mesh   map[storage.Hash][]holder
}

// holder is one entry of the mesh.
type holder struct {
	key  Key
	seen time.Time
}

// NewSwarm returns a Swarm for the node whose key fingerprint is self:
// the key it announces as a holder in X-Alt.
func NewSwarm(self Key) *Swarm {
	return &Swarm{self: self, active: make(map[storage.Hash]*activeDownload), mesh: make(map[storage.Hash][]holder)}
}

// activeDownload is a download in progress, served while it runs.
type activeDownload struct {
	dl *Download
	p  *partial
	// learn is told of holders the server hears of; it must not block.
	learn func([]Key)

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
	for c := off / storage.ChunkSize; c*storage.ChunkSize < off+int64(len(buf)); c++ {
		if !a.p.isVerified(a.dl, int(c)) {
			return false, nil
		}
	}
	_, err := a.p.f.ReadAt(buf, off)
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
	a := &activeDownload{dl: dl, p: p, learn: learn}
	s.mu.Lock()
	s.active[dl.Hash] = a
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		if s.active[dl.Hash] == a {
			delete(s.active, dl.Hash)
		}
		s.mu.Unlock()
		a.mu.Lock() // waits for reads in progress
		a.closed = true
		a.mu.Unlock()
	}
}

// partial returns the download in progress of h, or nil.
func (s *Swarm) partial(h storage.Hash) *activeDownload {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active[h]
}

// heard records that key holds (part of) h, as of now. A download of h in
// progress here learns of it as a new source.
func (s *Swarm) heard(h storage.Hash, key Key, now time.Time) {
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
	var oldest storage.Hash
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
func (s *Swarm) holders(h storage.Hash, except Key, now time.Time) []Key {
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
