package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
)

// qrpLinks sends this ultrapeer's query-routing table (its own and its
// leaves' keywords) to each mesh neighbour as Gnutella ROUTE_TABLE_UPDATE
// messages (RESET, then zlib-compressed PATCH sequences) on a QUIC stream,
// and keeps the tables neighbours send it in the routing core. Safe for
// concurrent use.
type qrpLinks struct {
	d *Daemon

	mu      sync.Mutex
	senders map[string]context.CancelFunc
	table   *query.Table // the current table; replaced, never mutated
	version uint64       // registry version the table was built from
	changed *sync.Cond
}

func newQRPLinks(d *Daemon) *qrpLinks {
	q := &qrpLinks{d: d, senders: make(map[string]context.CancelFunc)}
	q.changed = sync.NewCond(&q.mu)
	return q
}

// sync rebuilds the table when the index changed and keeps one sender per
// mesh neighbour. Called by the hierarchy loop.
func (q *qrpLinks) sync(t topology) {
	var want []string
	if t.role == role.Ultrapeer && q.d.cfg.LastHopQRP && q.d.cfg.Routing == "smart" {
		want = t.neighbours
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if v := q.d.registry.Version(); q.table == nil || v != q.version {
		q.table = q.d.buildTable()
		q.version = v
		q.changed.Broadcast()
	}
	for peer, cancel := range q.senders {
		if !slices.Contains(want, peer) {
			cancel()
			delete(q.senders, peer)
		}
	}
	for _, peer := range want {
		if _, ok := q.senders[peer]; !ok {
			ctx, cancel := context.WithCancel(q.d.ctx)
			q.senders[peer] = cancel
			q.d.goFunc(func() { q.send(ctx, peer) })
		}
	}
}

// buildTable is the QRP table of everything this node answers for.
func (d *Daemon) buildTable() *query.Table {
	t := query.NewTable(query.DefaultTableBits)
	for _, w := range d.registry.Keywords() {
		t.AddKeyword(w)
	}
	for _, h := range d.registry.Hashes() {
		t.Add(h.URN())
	}
	return t
}

// next waits until the table differs from sent, or ctx ends.
func (q *qrpLinks) next(ctx context.Context, sent *query.Table) *query.Table {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.changed.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for ctx.Err() == nil && (q.table == nil || q.table == sent) {
		q.changed.Wait()
	}
	return q.table
}

// send keeps one neighbour's copy of the table current, reconnecting on
// failure, until ctx ends.
func (q *qrpLinks) send(ctx context.Context, peer string) {
	for ctx.Err() == nil {
		err := q.sendSession(ctx, peer)
		if ctx.Err() == nil {
			q.d.log.Debug("qrp link", "peer", peer, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (q *qrpLinks) sendSession(ctx context.Context, peer string) error {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := q.d.ov.DialMember(dctx, peer, query.ALPNQRP)
	cancel()
	if err != nil {
		return err
	}
	defer conn.CloseWithError(0, "")
	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	defer stream.Close()
	// Waiting for the next change also ends when the neighbour closes the
	// connection (it refused us, or restarted): then reconnect and resend
	// the whole table rather than wait for a change that may not come.
	ctx, cancel = context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(conn.Context(), cancel)()
	var sent *query.Table
	for {
		cur := q.next(ctx, sent)
		if ctx.Err() != nil {
			return fmt.Errorf("qrp link to %s: %w", peer, ctx.Err())
		}
		msgs, err := query.AppendUpdates(nil, newGUID(), sent, cur)
		if err != nil {
			return err
		}
		if _, err := stream.Write(msgs); err != nil {
			return err
		}
		sent = cur
	}
}

// serveQRPConn receives a mesh neighbour's ROUTE_TABLE_UPDATE messages.
func (d *Daemon) serveQRPConn(conn *quic.Conn) {
	defer conn.CloseWithError(0, "")
	m, ok := d.ov.MemberByConn(conn)
	if !ok {
		return
	}
	stream, err := conn.AcceptStream(d.ctx)
	if err != nil {
		return
	}
	defer stream.Close()
	br := bufio.NewReader(stream)
	peer := query.PeerID(m.Name)
	var recv query.TableReceiver
	defer func() {
		d.withRouter(func(r *query.Router) { r.SetNeighbourTable(peer, nil) })
	}()
	for {
		msg, err := query.ReadRouteTableMsg(br)
		var table *query.Table
		if err == nil {
			table, err = recv.Receive(msg)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				d.log.Debug("qrp update", "peer", m.Name, "err", err)
			}
			return
		}
		if table != nil {
			d.withRouter(func(r *query.Router) { r.SetNeighbourTable(peer, table) })
		}
	}
}
