package daemon

import (
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/transfer"
)

// maxSourcesPerResult bounds the sources a search keeps for one file: a
// download tries each (with several workers), so a member answering with
// thousands of made-up holders could otherwise make this node dial them
// all.
const maxSourcesPerResult = 16

// keyed reports whether this node runs with a drill key.
func (d *Daemon) keyed() bool { return d.cfg.Key != "" || d.cfg.KeyFile != "" }

// dialable implements fetchNet: the sources a download may dial. A source whose key is
// a member's is dialled as that member (its stand-in address, resolved
// to the paths this node verified), whatever address the hit gave; with a
// drill key the others are left out, so that a hit cannot make this node
// open connections to a host outside the network.
func (n fetchNode) dialable(in []transfer.Source) []transfer.Source {
	d := n.d
	byKey := make(map[overlay.Fingerprint]overlay.Member)
	for _, m := range d.ov.Members() {
		byKey[m.Meta.Fingerprint] = m
	}
	out := make([]transfer.Source, 0, len(in))
	for _, s := range in {
		m, ok := byKey[overlay.Fingerprint(s.Fingerprint)]
		switch {
		case ok:
			s.Name, s.Addr = m.Name, m.Addr
		case d.keyed():
			d.log.Debug("source left out: not a member", "source", s.Name, "addr", s.Addr)
			continue
		}
		out = append(out, s)
	}
	return out
}
