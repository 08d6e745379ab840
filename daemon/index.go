package daemon

import (
	"context"
	"errors"
	"net/netip"
	"sync"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/storage"
	"github.com/servent-p2p/servent/ultrapeer"
)

// maxHitsPerQuery bounds the files one node answers a query with.
const maxHitsPerQuery = 200

// selfOwner is this node as an owner of files in an index.
func (d *Daemon) selfOwner() ultrapeer.Owner {
	return ultrapeer.Owner{ID: d.ov.Name(), Addr: d.advertised(), Fingerprint: d.ov.Fingerprint()}
}

// advertised is the address other members reach this node at.
func (d *Daemon) advertised() netip.AddrPort {
	if m, ok := d.ov.MemberByName(d.ov.Name()); ok {
		return m.Addr
	}
	return d.ov.LocalAddr()
}

// entries is the local catalog as index entries, one per share-relative
// path (the first root wins when two roots hold the same path).
func (d *Daemon) entries() []ultrapeer.Entry {
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

// leafConns tracks the index session of each registered leaf, so that a
// session ending drops the leaf's index only if no newer session holds it.
type leafConns struct {
	mu  sync.Mutex
	gen map[string]uint64
	n   uint64
}

func (c *leafConns) begin(id string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == nil {
		c.gen = make(map[string]uint64)
	}
	c.n++
	c.gen[id] = c.n
	return c.n
}

// end reports whether gen was the leaf's latest session.
func (c *leafConns) end(id string, gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[id] != gen {
		return false
	}
	delete(c.gen, id)
	return true
}

// serveIndexConn is the ultrapeer side of the index plane: a leaf's
// connection carries one stream of Register/Update frames.
func (d *Daemon) serveIndexConn(conn *quic.Conn) {
	defer conn.CloseWithError(0, "")
	m, ok := d.ov.MemberByAddr(conn.RemoteAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort())
	if !ok {
		return
	}
	owner := ultrapeer.Owner{ID: m.Name, Addr: m.Addr, Fingerprint: m.Meta.Fingerprint}
	ctx, cancel := context.WithCancel(d.ctx)
	defer cancel()
	stream, err := conn.AcceptStream(ctx)
	if err != nil {
		return
	}
	defer stream.Close()
	gen := d.leafConns.begin(owner.ID)
	defer func() {
		if d.leafConns.end(owner.ID, gen) && d.registry.Drop(owner.ID) {
			d.log.Info("leaf detached", "leaf", owner.ID)
			d.updateRouter()
		}
	}()
	for {
		msg, err := ultrapeer.ReadFrame(stream)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				d.log.Debug("index stream", "leaf", owner.ID, "err", err)
			}
			return
		}
		var u ultrapeer.Update
		switch f := msg.(type) {
		case *ultrapeer.Register:
			u = f.Update
		case *ultrapeer.Update:
			u = *f
		default:
			return
		}
		var reply ultrapeer.Message
		if d.role() != overlay.RoleUltrapeer {
			reply = &ultrapeer.Refuse{Reason: ultrapeer.RefuseNotUltrapeer, TryUltrapeers: d.tryUltrapeers()}
		} else {
			before := d.registry.Leaves()
			reply = d.registry.Handle(owner, u, d.tryUltrapeers())
			if _, isAck := reply.(*ultrapeer.Ack); isAck && len(before) != len(d.registry.Leaves()) {
				d.log.Info("leaf attached", "leaf", owner.ID, "files", len(u.Add), "leaves", len(d.registry.Leaves()))
				d.updateRouter()
			}
		}
		if err := ultrapeer.WriteFrame(stream, reply); err != nil {
			return
		}
		if _, refused := reply.(*ultrapeer.Refuse); refused {
			return
		}
	}
}

// tryUltrapeers is the hint sent with a refusal.
func (d *Daemon) tryUltrapeers() []string {
	d.topoMu.Lock()
	ups := d.topo.ultrapeers
	d.topoMu.Unlock()
	return ultrapeer.TryUltrapeers(d.ov.Name(), ups, 8)
}

// dropAllLeaves forgets every leaf's index (the node is no longer an
// ultrapeer); their sessions are refused on their next update.
func (d *Daemon) dropAllLeaves() {
	for _, id := range d.registry.Leaves() {
		d.registry.Drop(id)
	}
}

// memberLeft forgets what a departed member registered.
func (d *Daemon) memberLeft(name string) {
	if d.registry.Drop(name) {
		d.log.Info("leaf left the network", "leaf", name)
	}
}

// registryIndex answers queries from the registry: the node's own shares
// and, on an ultrapeer, its leaves'.
type registryIndex struct{ r *ultrapeer.Registry }

var _ query.Index = registryIndex{}

// Match implements query.Index: one QueryHit per owner with matches.
func (x registryIndex) Match(q *query.Query) []query.QueryHit {
	var urn *storage.Hash
	if !q.Hash.IsZero() {
		urn = &q.Hash
	}
	matches := x.r.Match(q.Words(), urn, maxHitsPerQuery)
	hits := make([]query.QueryHit, 0, len(matches))
	for _, om := range matches {
		h := query.QueryHit{
			Port:        om.Owner.Addr.Port(),
			QUICPort:    om.Owner.Addr.Port(),
			Fingerprint: om.Owner.Fingerprint,
			Node:        om.Owner.ID,
		}
		if a := om.Owner.Addr.Addr().Unmap(); a.Is4() {
			h.Addr = a
		} else {
			h.IPv6 = a
		}
		copy(h.ServentID[:], om.Owner.Fingerprint[:16])
		for i, e := range om.Entries {
			h.Results = append(h.Results, query.FileResult{Index: uint32(i), Size: uint64(e.Size), Name: e.Path, Hash: e.Hash})
		}
		hits = append(hits, h)
	}
	return hits
}

// localIndex is the routing core's answerer.
func (d *Daemon) localIndex() query.Index { return registryIndex{d.registry} }
