package daemon

import (
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/transfer"
)

// newSwarm returns the Swarm the file server and the downloader share
// (downloads in progress are served, holders are exchanged by key), or
// nil when the swarm key is off.
func (d *Daemon) newSwarm() *transfer.Swarm {
	if !d.cfg.Swarm {
		return nil
	}
	return transfer.NewSwarm(transfer.Key(d.ov.Fingerprint()), 0)
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
