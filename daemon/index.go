package daemon

import (
	"context"
	"errors"
	"net/netip"
	"sync"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
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

// leafConns tracks the index connection of each registered leaf, so that
// a session ending drops the leaf's index only if no newer session holds
// it, and so that an ultrapeer stepping down can close them all.
type leafConns struct {
	mu     sync.Mutex
	byLeaf map[string]leafConn
	n      uint64
}

type leafConn struct {
	gen  uint64
	conn *quic.Conn
}

func (c *leafConns) begin(id string, conn *quic.Conn) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byLeaf == nil {
		c.byLeaf = make(map[string]leafConn)
	}
	c.n++
	c.byLeaf[id] = leafConn{gen: c.n, conn: conn}
	return c.n
}

// end reports whether gen was the leaf's latest session.
func (c *leafConns) end(id string, gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byLeaf[id].gen != gen {
		return false
	}
	delete(c.byLeaf, id)
	return true
}

// close closes one leaf's index connection.
func (c *leafConns) close(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if lc, ok := c.byLeaf[id]; ok {
		lc.conn.CloseWithError(0, "left the network")
	}
}

// closeAll closes every leaf's index connection: the leaves see it at once
// and attach elsewhere.
func (c *leafConns) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, lc := range c.byLeaf {
		lc.conn.CloseWithError(0, "no longer an ultrapeer")
	}
}

// serveIndexConn is the ultrapeer side of the index plane: a leaf's
// connection carries one stream of Register/Update frames.
func (d *Daemon) serveIndexConn(conn *quic.Conn) {
	defer conn.CloseWithError(0, "")
	m, ok := d.ov.MemberByConn(conn)
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
	gen := d.leafConns.begin(owner.ID, conn)
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
		if d.role() != role.Ultrapeer {
			reply = &ultrapeer.Refuse{Reason: ultrapeer.RefuseNotUltrapeer, TryUltrapeers: d.tryUltrapeers()}
		} else {
			d.makeRoom(owner.ID)
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

// dropAllLeaves forgets every leaf's index and closes their connections
// (the node is no longer an ultrapeer), so they re-attach elsewhere now.
func (d *Daemon) dropAllLeaves() {
	d.leafConns.closeAll()
	for _, id := range d.registry.Leaves() {
		d.registry.Drop(id)
	}
}

// memberLeft forgets what a departed member registered, and closes its
// index connection so that, if it was only thought dead, it registers again.
func (d *Daemon) memberLeft(name string) {
	d.leafConns.close(name)
	if d.registry.Drop(name) {
		d.log.Info("leaf left the network", "leaf", name)
	}
}

// localIndex is the routing core's answerer.
func (d *Daemon) localIndex() query.Index {
	return ultrapeer.Index{Registry: d.registry, Limit: maxHitsPerQuery}
}
