package daemon

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/browse"
	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
	"github.com/servent-p2p/servent/transfer"
	"github.com/servent-p2p/servent/ultrapeer"
)

// drillKey returns the configured drill passphrase, from key_file when set.
func drillKey(keyFile, key string) (string, error) {
	if keyFile == "" {
		return key, nil
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return "", fmt.Errorf("key_file: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if first = strings.TrimSpace(first); first == "" {
		return "", fmt.Errorf("key_file %s: first line is empty; write the drill passphrase there", keyFile)
	}
	return first, nil
}

// keyFileOpen returns the mode of a key file that group or others may read
// ("" when it is private, unset, or the system has no such modes).
func keyFileOpen(path string) string {
	if path == "" || runtime.GOOS == "windows" {
		return ""
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return st.Mode().Perm().String()
}

// newOverlay builds the overlay node from the configuration.
func (d *Daemon) newOverlay() (*overlay.Node, error) {
	key, err := d.store.Identity()
	if err != nil {
		return nil, err
	}
	pass, err := drillKey(d.cfg.KeyFile, d.cfg.Key)
	if err != nil {
		return nil, err
	}
	if open := keyFileOpen(d.cfg.KeyFile); open != "" {
		d.log.Warn("the drill key file is readable by others: chmod 600 it", "key_file", d.cfg.KeyFile, "mode", open)
	}
	peers, err := d.store.Peers()
	if err != nil {
		d.log.Warn("peer cache unreadable", "err", err)
	}
	oc := overlay.DefaultConfig()
	oc.Name = d.cfg.Name
	oc.Listen = d.cfg.Listen
	if d.cfg.Advertise != "" {
		oc.Advertise = netip.MustParseAddr(d.cfg.Advertise) // validated by configs
	}
	oc.Key = key
	oc.DrillKey = pass
	oc.Seeds = d.cfg.Seeds
	oc.CachedPeers = peers
	oc.Discovery = d.cfg.Discovery
	// Beacons are IPv4 broadcast and multicast: only a wildcard-bound
	// socket receives them, whatever address --listen names.
	oc.DiscoveryListen = fmt.Sprintf("0.0.0.0:%d", d.cfg.DiscoveryPort)
	oc.Logger = d.log
	if oc.Faults, err = overlay.ParseFaults(d.cfg.FaultInjection); err != nil {
		return nil, fmt.Errorf("%w: fault_injection: %v", configs.ErrInvalid, err)
	}
	if oc.Faults != (overlay.Faults{}) {
		d.log.Warn("injecting datagram faults (fault_injection)", "faults", d.cfg.FaultInjection)
	}
	return overlay.New(oc)
}

// sendAll sends the router's outbound descriptors to their members.
func (d *Daemon) sendAll(out []query.Outbound) {
	var buf []byte
	for _, o := range out {
		m, ok := d.ov.MemberByName(string(o.To))
		if !ok {
			continue
		}
		var err error
		buf, err = o.D.AppendMarshal(buf[:0])
		if err != nil {
			d.log.Debug("encode descriptor", "err", err)
			continue
		}
		if err := d.ov.SendDatagram(m.Addr, query.PlaneByte, buf); err != nil {
			d.log.Debug("send descriptor", "to", o.To, "err", err)
		}
	}
}

// onQueryDatagram feeds one query-plane datagram to the routing core.
func (d *Daemon) onQueryDatagram(from netip.AddrPort, b []byte) {
	m, ok := d.ov.MemberByAddr(from)
	desc, err := query.Unmarshal(b)
	if err != nil {
		d.withRouter(func(r *query.Router) { r.CountMalformed() })
		return
	}
	peer := query.PeerID("")
	if ok {
		peer = query.PeerID(m.Name)
	}
	var res query.Result
	d.withRouter(func(r *query.Router) { res = r.Handle(time.Now(), peer, desc) })
	d.sendAll(res.Send)
	d.searches.deliver(res)
	if desc.Type == query.TypeQuery {
		d.wakeDynamic()
	}
}

// capacity is the election capacity this node publishes: its score, or a
// forced role (ultrapeer.PublishedCapacity).
func (d *Daemon) capacity() float32 {
	forced, _ := role.Parse(d.cfg.Role) // validated by configs
	score := d.cfg.Capacity
	if score <= 0 {
		score = ultrapeerCapacity(runtime.NumCPU(), totalMemory())
	}
	return ultrapeer.PublishedCapacity(forced, score)
}

// serveQRPConn receives a mesh neighbour's QRP stream.
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
	d.qrp.receive(m.Name, stream)
}

// setNeighbourTable gives the routing core a neighbour's QRP table (nil:
// it has none now).
func (d *Daemon) setNeighbourTable(p query.PeerID, t *query.Table) {
	d.withRouter(func(r *query.Router) { r.SetNeighbourTable(p, t) })
}

func newGUID() query.GUID {
	g, err := query.NewGUID(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return g
}

// routerConfig translates the configuration keys that shape the routing
// core of node self. Pure.
func routerConfig(c configs.Config, self string) query.Config {
	rc := query.DefaultConfig(query.PeerID(self))
	if c.Routing == "flood" {
		rc.Mode = query.Flood
	}
	rc.LastHopQRP = c.LastHopQRP
	rc.QueryRate, rc.QueryBurst = c.QueryRate, query.Burst(c.QueryRate)
	rc.Dynamic.On = c.Routing == "smart"
	return rc
}

// startNetwork joins the network: overlay, routing core, hierarchy loop.
func (d *Daemon) startNetwork(ctx context.Context) error {
	ov, err := d.newOverlay()
	if err != nil {
		return err
	}
	d.ov = ov
	d.indexes = newIndexServer(d.log, d.registry, d, d.cfg.MaxLeaves, d.updateRouter)
	d.leaves = newLeafAttacher(d.ctx, d.log, memberDialer{ov}, d, d.updateRouter, d.kickHierarchy)
	d.qrp = newQRPLinks(d.ctx, d.log, memberDialer{ov}, registryTables{d.registry}, d.setNeighbourTable, d.cfg.LastHopQRP && d.cfg.Routing == "smart")
	if err := d.startTransfer(); err != nil {
		return err
	}
	if err := ov.HandleALPN(ultrapeer.ALPNIndex, d.serveIndexConn); err != nil {
		return err
	}
	if err := ov.HandleALPN(ultrapeer.ALPNIndexV1, d.refuseOldIndexConn); err != nil {
		return err
	}
	if err := ov.HandleALPN(query.ALPNQRP, d.serveQRPConn); err != nil {
		return err
	}
	if err := ov.HandleALPN(transfer.ALPN, d.serveH3Conn); err != nil {
		return err
	}
	if err := ov.HandleALPN(browse.ALPN, d.serveBrowseConn); err != nil {
		return err
	}
	if err := ov.HandleDatagrams(query.PlaneByte, d.onQueryDatagram); err != nil {
		return err
	}
	d.router = query.NewRouter(routerConfig(d.cfg, ov.Name()), d.localIndex())
	d.router.SetMember(func(p query.PeerID) bool {
		_, ok := d.ov.MemberByName(string(p))
		return ok
	})
	if err := ov.Start(ctx); err != nil {
		return err
	}
	d.goFunc(d.hierarchyLoop)
	d.goFunc(d.dynamicLoop)
	d.goFunc(d.reportJoin)
	return nil
}
