package transfer

import (
	"sync"
	"time"
)

// DefaultMaxSources caps the sources of one download, those learnt from
// the download mesh included.
const DefaultMaxSources = 16

// sourceSet is a download's sources: those of the request, then the
// holders it hears of while it runs (alternate locations), which the
// mesh loop resolves and starts using. Safe for concurrent use.
type sourceSet struct {
	d     *Downloader
	mu    sync.Mutex
	list  []*source
	heard chan Key // holders heard of, waiting to be resolved
}

func newSourceSet(d *Downloader, srcs []*source) *sourceSet {
	return &sourceSet{d: d, list: srcs, heard: make(chan Key, 4*maxAlts)}
}

// all returns the sources so far.
func (ss *sourceSet) all() []*source {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]*source(nil), ss.list...)
}

// learn queues holders heard of; it never blocks (a full queue drops
// them: they will be heard of again).
func (ss *sourceSet) learn(keys []Key) {
	for _, k := range keys {
		select {
		case ss.heard <- k:
		default:
		}
	}
}

// resolve turns a holder's key into a new source of a file of chunks
// chunks: nil when it is this node, already a source (used or dropped),
// unknown to Resolve, or when the download has MaxSources. A new source
// counts as holding nothing until it answers.
func (ss *sourceSet) resolve(k Key, chunks int) *source {
	cfg := ss.d.cfg
	if cfg.Resolve == nil || cfg.Swarm == nil || k == cfg.Swarm.self {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.list) >= cfg.MaxSources {
		return nil
	}
	for _, s := range ss.list {
		if s.Fingerprint == k {
			return nil
		}
	}
	s, ok := cfg.Resolve(k)
	if !ok || s.Fingerprint != k {
		return nil
	}
	src := &source{Source: s, d: ss.d, have: make([]byte, (chunks+7)/8)}
	if src.Name == "" {
		src.Name = s.Addr.String()
	}
	ss.list = append(ss.list, src)
	ss.d.log.Debug("source learnt from the download mesh", "source", src.Name, "addr", src.Addr)
	return src
}

// meshLoop starts using every holder heard of until the schedule ends;
// start runs a new source's workers.
func (ss *sourceSet) meshLoop(sc *schedule, chunks int, start func(*source)) {
	for {
		select {
		case k := <-ss.heard:
			if src := ss.resolve(k, chunks); src != nil {
				sc.add(src)
				start(src)
			}
		case <-sc.ended:
			return
		case <-sc.parent.Done():
			return
		}
	}
}

// heardFrom records the holders a source named in X-Alt in the node's
// mesh (which tells this download, through learn).
func (d *Downloader) heardFrom(dl *Download, keys []Key) {
	now := time.Now()
	for _, k := range keys {
		d.cfg.Swarm.heard(dl.Hash, k, now)
	}
}
