package overlay

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// BeaconGroup is the IPv4 multicast group beacons are sent to (organisation-
// local scope), on the discovery port.
var BeaconGroup = netip.MustParseAddr("239.192.63.46")

// beaconRetry is how long a beacon's sender is not re-joined after a try.
const beaconRetry = 5 * time.Second

// discovery sends and receives LAN beacons on the discovery-only UDP port
// and joins the senders it does not know yet.
type discovery struct {
	n     *Node
	conn  *net.UDPConn
	raw   syscall.RawConn
	port  uint16
	joinQ chan netip.AddrPort

	mu    sync.Mutex
	tried map[netip.AddrPort]time.Time
}

func (n *Node) newDiscovery() (*discovery, error) {
	lc := net.ListenConfig{Control: discoveryControl}
	pc, err := lc.ListenPacket(n.ctx, "udp4", n.cfg.DiscoveryListen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", n.cfg.DiscoveryListen, err)
	}
	conn := pc.(*net.UDPConn)
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, err
	}
	d := &discovery{
		n:     n,
		conn:  conn,
		raw:   raw,
		port:  conn.LocalAddr().(*net.UDPAddr).AddrPort().Port(),
		joinQ: make(chan netip.AddrPort, 16),
		tried: make(map[netip.AddrPort]time.Time),
	}
	if len(n.cfg.BeaconTargets) == 0 {
		for _, ifc := range beaconInterfaces() {
			if ifc.Flags&net.FlagMulticast == 0 {
				continue
			}
			if err := joinGroup(raw, BeaconGroup, ifc.Index); err != nil {
				n.log.Debug("multicast join failed", "iface", ifc.Name, "err", err)
			}
		}
	}
	return d, nil
}

func (d *discovery) close() error { return d.conn.Close() }

// run sends beacons until the node closes; it also runs the receiver and the
// joiner.
func (d *discovery) run() {
	d.n.goroutine(d.receive)
	d.n.goroutine(d.joiner)
	cfg := d.n.cfg
	aloneCap := max(cfg.BeaconMin, min(cfg.BeaconMax, 2*time.Second))
	wait := cfg.BeaconMin
	for {
		d.sendBeacons()
		t := time.NewTimer(wait)
		select {
		case <-d.n.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, cfg.BeaconMax)
		if d.n.NumMembers() <= 1 {
			wait = min(wait, aloneCap)
		}
	}
}

// beaconInterfaces lists the up, non-loopback interfaces.
func beaconInterfaces() []net.Interface {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []net.Interface
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagLoopback == 0 {
			out = append(out, ifc)
		}
	}
	return out
}

// directedBroadcast returns the broadcast address of an IPv4 prefix.
func directedBroadcast(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	bits := p.Bits()
	for i := range 4 {
		for b := range 8 {
			if i*8+b >= bits {
				a[i] |= 0x80 >> b
			}
		}
	}
	return netip.AddrFrom4(a)
}

func (d *discovery) sendBeacons() {
	if d.n.leaving.Load() {
		return
	}
	adv, err := d.n.advertiseAddr()
	if err != nil {
		d.n.log.Debug("no beacon: no address", "err", err)
		return
	}
	msg := encodeBeacon(beacon{Version: beaconVersion, Port: adv.Port(), Name: d.n.name}, d.n.keys)
	if len(d.n.cfg.BeaconTargets) > 0 {
		for _, t := range d.n.cfg.BeaconTargets {
			d.send(msg, t)
		}
		return
	}
	d.send(msg, netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), d.port))
	for _, ifc := range beaconInterfaces() {
		if ifc.Flags&net.FlagBroadcast != 0 {
			for _, p := range ifacePrefixes(ifc) {
				if p.Bits() < 32 {
					d.send(msg, netip.AddrPortFrom(directedBroadcast(p), d.port))
				}
			}
		}
		if ifc.Flags&net.FlagMulticast != 0 {
			if err := setMulticastIf(d.raw, ifc.Index); err != nil {
				continue
			}
			d.send(msg, netip.AddrPortFrom(BeaconGroup, d.port))
		}
	}
}

func (d *discovery) send(msg []byte, to netip.AddrPort) {
	if _, err := d.conn.WriteToUDPAddrPort(msg, to); err != nil {
		// No route (no default gateway on a link-local LAN) is expected.
		d.n.log.Debug("beacon send failed", "to", to, "err", err)
		return
	}
	d.n.stats.beaconsSent.Add(1)
}

func (d *discovery) receive() {
	buf := make([]byte, 1500)
	for {
		sz, from, err := d.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || d.n.ctx.Err() != nil {
				return
			}
			continue
		}
		b, err := decodeBeacon(buf[:sz], d.n.keys)
		if err != nil {
			d.n.stats.beaconsRejected.Add(1)
			continue
		}
		if b.Name == d.n.name || d.n.leaving.Load() {
			continue
		}
		d.n.stats.beaconsIn.Add(1)
		peer := netip.AddrPortFrom(from.Addr().Unmap(), b.Port)
		if d.n.IsMember(peer) || !d.shouldTry(peer, time.Now()) {
			continue
		}
		select {
		case d.joinQ <- peer:
		default:
		}
	}
}

func (d *discovery) shouldTry(peer netip.AddrPort, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.tried[peer]; ok && now.Sub(t) < beaconRetry {
		return false
	}
	for p, t := range d.tried {
		if now.Sub(t) >= beaconRetry {
			delete(d.tried, p)
		}
	}
	d.tried[peer] = now
	return true
}

// joiner joins beacon senders one at a time.
func (d *discovery) joiner() {
	for {
		select {
		case <-d.n.ctx.Done():
			return
		case peer := <-d.joinQ:
			if d.n.IsMember(peer) {
				continue
			}
			if _, err := d.n.Join([]string{peer.String()}, ViaBeacon); err != nil {
				d.n.log.Debug("join beacon sender failed", "peer", peer, "err", err)
			} else {
				d.n.log.Info("joined beacon sender", "peer", peer, "members", d.n.NumMembers())
			}
		}
	}
}
