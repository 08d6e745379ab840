package overlay

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/quic-go/quic-go"
)

// Lifecycle errors.
var (
	// ErrStarted: the call is only valid before Start.
	ErrStarted = errors.New("node already started")
	// ErrNotStarted: the call is only valid after Start.
	ErrNotStarted = errors.New("node not started")
	// ErrClosed: the node is closed.
	ErrClosed = errors.New("node closed")
)

// Node is one servent's network layer. Create it with New, register handlers,
// then Start it. Methods are safe for concurrent use unless stated otherwise.
type Node struct {
	cfg  Config
	log  *slog.Logger
	name string
	cert tls.Certificate
	fp   Fingerprint
	keys drillKeys

	alpn    map[string]func(*quic.Conn) // fixed at Start
	planes  map[byte]*plane             // fixed at Start
	started atomic.Bool
	leaving atomic.Bool // after Leave: no beacons, no rejoin

	udp *net.UDPConn
	tr  *quic.Transport
	ln  *quic.Listener
	mlt *mlTransport
	ml  *memberlist.Memberlist
	dsc *discovery

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closed    atomic.Bool // Close has begun: Leave is refused
	closeErr  error

	metaMu sync.Mutex
	meta   []byte
	// announce signals announceLoop that the metadata changed.
	announce chan struct{}

	id      NodeID     // IDOf(fp)
	paths   *pathTable // peer key -> paths
	pending pendingQueue
	dg      dgConns

	localMu sync.Mutex
	locals  []localAddr // this host's addresses, refreshed by watchInterfaces

	members memberTable
	events  chan Event
	faults  *faultInjector // nil: no injected faults

	stats counters
}

// New validates cfg and builds the node's identity. It opens no socket.
func New(cfg Config) (*Node, error) {
	cfg = cfg.withDefaults()
	cert, fp, err := newIdentity(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	keys, err := deriveDrillKeys(cfg.DrillKey)
	if err != nil {
		return nil, fmt.Errorf("drill key: %w", err)
	}
	name := cfg.Name
	if name == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "servent"
		}
		name = host + "-" + hex.EncodeToString(fp[:4])
	}
	n := &Node{
		cfg:      cfg,
		log:      cfg.Logger.With("node", name),
		name:     name,
		cert:     cert,
		fp:       fp,
		keys:     keys,
		id:       IDOf(fp),
		paths:    newPathTable(),
		dg:       dgConns{byID: make(map[NodeID]*quic.Conn), dialing: make(map[NodeID]bool)},
		alpn:     make(map[string]func(*quic.Conn)),
		planes:   make(map[byte]*plane),
		members:  newMemberTable(),
		events:   make(chan Event, cfg.EventBuffer),
		announce: make(chan struct{}, 1),
	}
	if cfg.Faults.active() {
		n.faults = newFaultInjector(cfg.Faults)
	}
	n.meta = EncodeMeta(Meta{Fingerprint: fp, Protocol: ProtocolVersion, Started: time.Now()})
	return n, nil
}

// ProtocolVersion is the servent protocol version this package speaks.
// Version 2: members are known by stand-in addresses, memberlist packets
// carry the sender's NodeID, beacons its fingerprint.
const ProtocolVersion = 2

// Name returns the node's memberlist name.
func (n *Node) Name() string { return n.name }

// Fingerprint returns the fingerprint of the node's key.
func (n *Node) Fingerprint() Fingerprint { return n.fp }

// Start opens the socket, starts the datagram reader (first, so no datagram is
// lost), the QUIC listener, memberlist and discovery, and begins joining seeds
// and cached peers in the background. ctx bounds start-up only; the node runs
// until Close. Start does not wait for a join.
func (n *Node) Start(ctx context.Context) error {
	if !n.started.CompareAndSwap(false, true) {
		return ErrStarted
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if err := n.startTransport(); err != nil {
		n.Close()
		return err
	}
	n.refreshLocalAddrs()
	if err := n.republishAddrs(); err != nil { // memberlist is not up: cannot fail
		n.Close()
		return err
	}
	if err := ctx.Err(); err != nil {
		n.Close()
		return err
	}
	if err := n.startMemberlist(); err != nil {
		n.Close()
		return err
	}
	if n.cfg.Discovery {
		d, err := n.newDiscovery()
		if err != nil {
			n.Close()
			return fmt.Errorf("discovery: %w", err)
		}
		n.dsc = d
		n.goroutine(d.run)
	}
	n.goroutine(n.rejoinLoop)
	n.goroutine(n.announceLoop)
	n.goroutine(n.watchInterfaces)
	if !n.keys.set {
		n.log.Warn("no drill key: the network is open to any host on the LAN")
	}
	return nil
}

// goroutine runs f in a goroutine joined by Close.
func (n *Node) goroutine(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// Leave announces a graceful departure and waits up to timeout for it to
// propagate. Blocks. Call Close afterwards.
func (n *Node) Leave(timeout time.Duration) error {
	if n.ml == nil {
		return ErrNotStarted
	}
	if n.closed.Load() {
		return ErrClosed
	}
	n.leaving.Store(true)
	if err := n.ml.Leave(timeout); err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	return nil
}

// Close stops memberlist (without a leave message), discovery, the QUIC
// listener and every connection, closes the socket and waits for every
// goroutine. Idempotent; later calls return the first result.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.closed.Store(true)
		if n.cancel != nil {
			n.cancel()
		}
		var errs []error
		if n.ml != nil {
			errs = append(errs, n.ml.Shutdown())
		}
		if n.dsc != nil {
			errs = append(errs, n.dsc.close())
		}
		if n.faults != nil {
			n.faults.close()
		}
		if n.ln != nil {
			n.ln.Close()
		}
		if n.tr != nil {
			errs = append(errs, n.tr.Close())
		}
		if n.udp != nil {
			n.udp.Close()
		}
		n.wg.Wait()
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}
