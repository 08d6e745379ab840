package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

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
// connection carries one stream of Register/Update frames, an update
// possibly in parts. Each update must come from a leaf this ultrapeer
// admits (admitLeaf); its parts are held within twice the leaf's budget
// (ultrapeer.Assembler) and paced by the leaf's rate (indexLimiter); the
// registry keeps what fits the budget and the Ack says how much it left
// out.
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
	parts := ultrapeer.NewAssembler(2 * d.registry.Budget().Bytes)
	for {
		u, dropped, reply, err := d.readLeafUpdate(ctx, stream, owner.ID, parts)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				d.log.Debug("index stream", "leaf", owner.ID, "err", err)
			}
			return
		}
		if reply == nil {
			reply = d.applyLeafUpdate(owner, u, dropped)
		}
		if err := ultrapeer.WriteFrame(stream, reply); err != nil {
			return
		}
		if _, refused := reply.(*ultrapeer.Refuse); refused {
			stream.CancelRead(0) // the leaf may be sending more parts
			closeAfterReply(conn, stream)
			return
		}
	}
}

// readLeafUpdate reads the frames of a leaf's next update, paced by the
// leaf's rate, and returns it whole with the entries its parts lost to
// the budget, or the refusal to answer with (not admitted, a part of
// another update, another wire version). It blocks on the stream and on
// the pace.
func (d *Daemon) readLeafUpdate(ctx context.Context, stream *quic.Stream, leaf string, parts *ultrapeer.Assembler) (u ultrapeer.Update, dropped int, refuse ultrapeer.Message, err error) {
	for starting := true; ; starting = false {
		msg, err := ultrapeer.ReadFrame(stream)
		if errors.Is(err, ultrapeer.ErrUnsupportedVersion) {
			d.log.Warn("a leaf speaks another index wire version: run the same servent version on every node", "leaf", leaf, "err", err, "ours", ultrapeer.WireVersion)
			return u, 0, &ultrapeer.Refuse{Reason: ultrapeer.RefuseBadUpdate}, nil
		}
		if err != nil {
			return u, 0, nil, err
		}
		var part ultrapeer.Update
		switch f := msg.(type) {
		case *ultrapeer.Register:
			part = f.Update
		case *ultrapeer.Update:
			part = *f
		default:
			return u, 0, nil, fmt.Errorf("unexpected %T from a leaf", msg)
		}
		if starting {
			if err := d.indexLimit.wait(ctx, leaf, indexUpdateCost); err != nil {
				return u, 0, nil, err
			}
			if r := d.admitLeaf(leaf); r != nil {
				return u, 0, r, nil
			}
		}
		if err := d.indexLimit.wait(ctx, leaf, len(part.Add)+len(part.Remove)); err != nil {
			return u, 0, nil, err
		}
		u, dropped, done, err := parts.Add(part)
		if err != nil {
			return u, 0, &ultrapeer.Refuse{Reason: ultrapeer.RefuseBadUpdate}, nil
		}
		if !done {
			continue
		}
		if !u.Full {
			// A delta rebuilds the leaf's whole index: pay for the copy.
			if err := d.indexLimit.wait(ctx, leaf, d.registry.OwnerEntries(leaf)); err != nil {
				return u, 0, nil, err
			}
		}
		return u, dropped, nil, nil
	}
}

// refuseOldIndexConn answers a leaf running an older index plane with a
// refusal it understands (bad update) and says why in this node's log.
func (d *Daemon) refuseOldIndexConn(conn *quic.Conn) {
	defer conn.CloseWithError(0, "index protocol "+ultrapeer.ALPNIndexV1+" is not served: run the same servent version on every node")
	name := "?"
	if m, ok := d.ov.MemberByConn(conn); ok {
		name = m.Name
	}
	d.log.Warn("a leaf runs an older servent (index protocol "+ultrapeer.ALPNIndexV1+", this node speaks "+ultrapeer.ALPNIndex+"): refused; run the same version on every node", "leaf", name)
	ctx, cancel := context.WithTimeout(d.ctx, 5*time.Second)
	defer cancel()
	stream, err := conn.AcceptStream(ctx)
	if err != nil {
		return
	}
	stream.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := ultrapeer.ReadFrame(stream); err == nil || errors.Is(err, ultrapeer.ErrUnsupportedVersion) {
		ultrapeer.WriteFrame(stream, &ultrapeer.Refuse{Reason: ultrapeer.RefuseBadUpdate})
	}
	closeAfterReply(conn, stream)
}

// replyGrace bounds how long a refused leaf is given to read the refusal
// and close the connection itself.
const replyGrace = 2 * time.Second

// closeAfterReply closes stream and waits, at most replyGrace, for the
// peer to close conn: closing the connection at once could discard the
// reply just written (CONNECTION_CLOSE does not wait for stream data).
func closeAfterReply(conn *quic.Conn, stream *quic.Stream) {
	stream.Close()
	t := time.NewTimer(replyGrace)
	defer t.Stop()
	select {
	case <-conn.Context().Done():
	case <-t.C:
	}
}

// applyLeafUpdate applies a leaf's whole update (dropped: entries already
// left out while its parts arrived) and returns the Ack or Refuse.
func (d *Daemon) applyLeafUpdate(owner ultrapeer.Owner, u ultrapeer.Update, dropped int) ultrapeer.Message {
	if d.role() != role.Ultrapeer {
		return &ultrapeer.Refuse{Reason: ultrapeer.RefuseNotUltrapeer, TryUltrapeers: d.tryUltrapeers()}
	}
	d.makeRoom(owner.ID)
	before := len(d.registry.Leaves())
	reply := d.registry.Handle(owner, u, d.tryUltrapeers())
	ack, isAck := reply.(*ultrapeer.Ack)
	if !isAck {
		return reply
	}
	ack.Dropped += uint64(dropped)
	if ack.Dropped > 0 {
		d.log.Warn("a leaf's index is over its budget: part of it is left out", "leaf", owner.ID, "left_out", ack.Dropped, "held", d.registry.OwnerEntries(owner.ID))
	}
	if n := len(d.registry.Leaves()); n != before {
		d.log.Info("leaf attached", "leaf", owner.ID, "files", d.registry.OwnerEntries(owner.ID), "leaves", n)
		d.updateRouter()
	}
	return ack
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
