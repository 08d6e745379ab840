package daemon

import (
	"net/netip"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/ultrapeer"
)

// maxHitsPerQuery bounds the files one node answers a query with.
const maxHitsPerQuery = 200

// selfOwner is this node as an owner of files in an index.
func (d *Daemon) selfOwner() ultrapeer.Owner {
	return ultrapeer.Owner{ID: d.ov.Name(), Addr: d.advertised(), Fingerprint: d.ov.Fingerprint()}
}

// advertised is the address other members know this node by: its
// stand-in, which each of them resolves to its own path here.
func (d *Daemon) advertised() netip.AddrPort { return d.ov.StandIn() }

// entries is what the node answers queries for: its shared files and its
// downloads in progress (partialEntries).
func (d *Daemon) entries() []ultrapeer.Entry {
	shared := d.sharedEntries()
	paths := make(map[string]bool, len(shared))
	hashes := make(map[content.Hash]bool, len(shared))
	for _, e := range shared {
		paths[e.Path], hashes[e.Hash] = true, true
	}
	return append(shared, d.partialEntries(paths, hashes)...)
}

// sharedEntries is the local catalog as index entries, one per
// share-relative path (the first root wins when two roots hold the same
// path): what a browse lists.
func (d *Daemon) sharedEntries() []ultrapeer.Entry {
	files, err := d.store.Files()
	if err != nil {
		d.log.Error("reading catalog", "err", err)
		return nil
	}
	seen := make(map[string]bool, len(files))
	out := make([]ultrapeer.Entry, 0, len(files))
	for _, f := range files {
		if seen[f.Path] {
			continue
		}
		seen[f.Path] = true
		out = append(out, ultrapeer.Entry{Path: f.Path, Size: f.Size, Hash: f.Hash, Keywords: f.Keywords})
	}
	return out
}

// publishCatalog puts the current catalog into the node's own index and
// tells attached ultrapeers about it.
func (d *Daemon) publishCatalog() {
	d.selfVersion++
	_, err := d.registry.ApplySelf(d.selfOwner(), ultrapeer.Update{Full: true, ToVersion: d.selfVersion, Add: d.entries()})
	if err != nil {
		d.log.Error("indexing own shares", "err", err)
	}
	d.leaves.catalogChanged()
	d.publishMeta(d.ov.Meta().Role)
}

// localIndex is the routing core's answerer.
func (d *Daemon) localIndex() query.Index {
	return ultrapeer.Index{Registry: d.registry, Limit: maxHitsPerQuery}
}
