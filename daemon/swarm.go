package daemon

import (
	"time"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/transfer"
	"github.com/servent-p2p/servent/ultrapeer"
)

// newSwarm returns the Swarm the file server and the downloader share
// (downloads in progress are served, holders are exchanged by key), or
// nil when the swarm key is off. A download that verified its first
// chunk, or ended, changes the node's index (partialEntries).
func (d *Daemon) newSwarm() *transfer.Swarm {
	if !d.cfg.Swarm {
		return nil
	}
	sw := transfer.NewSwarm(transfer.Key(d.ov.Fingerprint()), 0)
	sw.OnChange(d.partialsChanged)
	return sw
}

// partialsEvery bounds how often downloads starting and ending re-index
// the node's catalog: a folder download starts and ends many a second,
// and each re-index walks every shared file.
const partialsEvery = 2 * time.Second

// partialsChanged re-indexes the catalog partialsEvery after the first of
// a burst of changes to the downloads in progress.
func (d *Daemon) partialsChanged() {
	if d.partialsPending.CompareAndSwap(false, true) {
		time.AfterFunc(partialsEvery, func() {
			d.partialsPending.Store(false)
			d.catalogChanged()
		})
	}
}

// partialEntries are the downloads in progress with a verified chunk, as
// partial index entries (PFSP): they answer searches by hash only, and
// the hits say the file is partial. A download is left out when a shared
// file has its hash (the whole file is answered for) or its name as path
// (a path names one entry): paths and hashes are the shared entries',
// and paths gets the partial entries' too.
func (d *Daemon) partialEntries(paths map[string]bool, hashes map[content.Hash]bool) []ultrapeer.Entry {
	var out []ultrapeer.Entry
	for _, f := range d.swarm.InProgress() {
		if hashes[f.Hash] || paths[f.Name] || f.Name == "" {
			continue
		}
		paths[f.Name] = true
		out = append(out, ultrapeer.Entry{Path: f.Name, Size: f.Size, Hash: f.Hash, Partial: true})
	}
	return out
}

// memberSource resolves a holder heard of in the download mesh, by key,
// to a source: only a current member other than this node, at the path a
// pinned handshake with it last completed on (else its stand-in address,
// for the overlay to find a path by key).
func (d *Daemon) memberSource(k transfer.Key) (transfer.Source, bool) {
	fp := overlay.Fingerprint(k)
	if fp == d.ov.Fingerprint() {
		return transfer.Source{}, false
	}
	for _, m := range d.ov.Members() {
		if m.Meta.Fingerprint == fp {
			addr := m.Addr
			if a, verified, ok := d.ov.PathTo(m); ok && verified {
				addr = a
			}
			return transfer.Source{Name: m.Name, Addr: addr, Fingerprint: k}, true
		}
	}
	return transfer.Source{}, false
}
