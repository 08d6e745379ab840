package transfer

import (
	"bytes"
	"slices"

	"github.com/servent-p2p/servent/content"
)

// PartialFile is a download in progress whose verified chunks this node
// serves: what it answers a search by hash with, marked partial
// (Gnutella's partial file sharing, PFSP).
type PartialFile struct {
	Hash content.Hash
	Size int64
	// Name is the download's file name (a base name).
	Name string
}

// InProgress returns the downloads in progress of files of more than one
// chunk that have at least one verified chunk, sorted by hash. Finished downloads still served for a
// while are not among them (the finished file is shared, or not, as the
// download asked). Safe for concurrent use.
func (s *Swarm) InProgress() []PartialFile {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PartialFile
	for h, a := range s.active {
		if a.listed {
			out = append(out, PartialFile{Hash: h, Size: a.dl.Size, Name: a.dl.Name})
		}
	}
	slices.SortFunc(out, func(a, b PartialFile) int { return bytes.Compare(a.Hash[:], b.Hash[:]) })
	return out
}

// OnChange sets fn, called whenever InProgress may answer otherwise: a
// download verified its first chunk, or one ended. fn is called without
// the Swarm's locks held, from the goroutine of the change, and must not
// block. Set it before the first download starts.
func (s *Swarm) OnChange(fn func()) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onChange = fn
}

// verified tells the Swarm that the download of h in progress verified a
// chunk (listed from its first one on, unless the file has only one: it
// is whole the moment it has anything).
func (s *Swarm) verified(h content.Hash) {
	if s == nil {
		return
	}
	s.mu.Lock()
	notify := func() {}
	if a := s.active[h]; a != nil && a.learn != nil && content.NumChunks(a.dl.Size) > 1 {
		notify = s.listedLocked(a, true)
	}
	s.mu.Unlock()
	notify()
}

// listedLocked sets whether a is listed by InProgress and returns what
// to call once mu is released: the change notice if that changed, else a
// no-op. Called with mu held.
func (s *Swarm) listedLocked(a *activeDownload, listed bool) func() {
	changed := a.listed != listed
	a.listed = listed
	if !changed || s.onChange == nil {
		return func() {}
	}
	return s.onChange
}
