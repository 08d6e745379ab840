package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
	"github.com/servent-p2p/servent/ultrapeer"
)

// qrpRedial is how long a QRP link waits before it dials again.
const qrpRedial = time.Second

// routeTables is where an ultrapeer's QRP table comes from. Safe for
// concurrent use.
type routeTables interface {
	// Version changes whenever the table would.
	Version() uint64
	// routeTable builds the table of everything this node answers for.
	routeTable() *query.Table
}

// registryTables builds QRP tables from the node's index: its own shares
// and its leaves'.
type registryTables struct{ *ultrapeer.Registry }

var _ routeTables = registryTables{}

func (r registryTables) routeTable() *query.Table {
	t := query.NewTable(query.DefaultTableBits)
	for _, w := range r.Keywords() {
		t.AddKeyword(w)
	}
	for _, h := range r.Hashes() {
		t.Add(h.URN())
	}
	return t
}

// qrpLinks sends this ultrapeer's query-routing table (its own and its
// leaves' keywords) to each mesh neighbour on a QRP stream (query's
// WriteRouteTable: RESET, then zlib-compressed PATCH sequences), and hands
// the tables neighbours send it to the routing core (receive). startNetwork
// builds it; the hierarchy loop drives it (sync). Safe for concurrent use.
type qrpLinks struct {
	ctx      context.Context
	log      *slog.Logger
	dial     streamDialer
	tables   routeTables
	setTable func(peer query.PeerID, t *query.Table) // a neighbour's table, nil when gone
	on       bool                                    // last-hop QRP in smart routing
	wg       sync.WaitGroup

	mu      sync.Mutex
	senders map[string]context.CancelFunc
	table   *query.Table // the current table; replaced, never mutated
	version uint64       // tables' version the table was built from
	changed *sync.Cond
}

// newQRPLinks returns links that run until ctx ends; with on false they
// send nothing (flood routing, or last_hop_qrp off).
func newQRPLinks(ctx context.Context, log *slog.Logger, dial streamDialer, tables routeTables, setTable func(query.PeerID, *query.Table), on bool) *qrpLinks {
	q := &qrpLinks{ctx: ctx, log: log, dial: dial, tables: tables, setTable: setTable, on: on, senders: make(map[string]context.CancelFunc)}
	q.changed = sync.NewCond(&q.mu)
	return q
}

// sync rebuilds the table when the index changed and keeps one sender per
// mesh neighbour while this node is an ultrapeer.
func (q *qrpLinks) sync(r role.Role, neighbours []string) {
	var want []string
	if r == role.Ultrapeer && q.on {
		want = neighbours
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if v := q.tables.Version(); q.table == nil || v != q.version {
		q.table = q.tables.routeTable()
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
			ctx, cancel := context.WithCancel(q.ctx)
			q.senders[peer] = cancel
			q.wg.Go(func() { q.send(ctx, peer) })
		}
	}
}

// wait blocks until every sender has ended (they end with the context
// given to newQRPLinks).
func (q *qrpLinks) wait() { q.wg.Wait() }

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
			q.log.Debug("qrp link", "peer", peer, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(qrpRedial):
			}
		}
	}
}

// sendSession sends the whole table on a new stream, then each change.
func (q *qrpLinks) sendSession(ctx context.Context, peer string) error {
	stream, err := q.dial.dialStream(ctx, peer, query.ALPNQRP)
	if err != nil {
		return err
	}
	defer stream.Close()
	// Waiting for the next change also ends when the neighbour closes the
	// connection (it refused us, or restarted): then reconnect and resend
	// the whole table rather than wait for a change that may not come.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(stream.connContext(), cancel)()
	var sent *query.Table
	for {
		cur := q.next(ctx, sent)
		if ctx.Err() != nil {
			return fmt.Errorf("qrp link to %s: %w", peer, ctx.Err())
		}
		if err := query.WriteRouteTable(stream, newGUID(), sent, cur); err != nil {
			return err
		}
		sent = cur
	}
}

// receive reads a mesh neighbour's QRP stream until it ends, keeping the
// neighbour's latest table in the routing core, and forgets the table
// when the stream ends.
func (q *qrpLinks) receive(peer string, stream io.Reader) {
	p := query.PeerID(peer)
	defer q.setTable(p, nil)
	tables := query.NewRouteTableReader(stream)
	for {
		t, err := tables.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				q.log.Debug("qrp update", "peer", peer, "err", err)
			}
			return
		}
		q.setTable(p, t)
	}
}
