package daemon

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/role"
)

// peerCacheInterval is how often the members' addresses are saved for the
// next start.
const peerCacheInterval = time.Minute

// reportJoin says once how the node found the network, or what to try when
// it finds no one; then it saves the peer cache periodically.
func (d *Daemon) reportJoin() {
	alone := time.NewTimer(5 * time.Second)
	defer alone.Stop()
	save := time.NewTicker(peerCacheInterval)
	defer save.Stop()
	check := time.NewTicker(250 * time.Millisecond)
	defer check.Stop()
	reported := false
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-save.C:
			d.savePeers()
		case <-alone.C:
			if !reported {
				d.log.Warn("no other servent found yet; still looking. If the others are on this LAN, "+
					"check that UDP ports are open (main port and discovery port), or join one directly with --seed IP:PORT",
					"listen", d.cfg.Listen, "discovery_port", d.cfg.DiscoveryPort)
			}
		case <-check.C:
			if !reported && d.ov.NumMembers() > 1 {
				reported = true
				st := d.ov.Stats()
				d.log.Info("joined the network", "members", d.ov.NumMembers(), "via", st.JoinedVia)
				d.savePeers()
				check.Stop()
			}
		}
	}
}

// savePeers stores the paths to the current members in the peer cache.
func (d *Daemon) savePeers() {
	var addrs []string
	for _, m := range d.ov.Members() {
		if m.Name == d.ov.Name() || m.State != overlay.StateAlive {
			continue
		}
		if path, _, ok := d.ov.PathTo(m); ok {
			addrs = append(addrs, path.String())
		}
	}
	if len(addrs) == 0 {
		return
	}
	if err := d.store.SavePeers(addrs); err != nil {
		d.log.Debug("saving peer cache", "err", err)
	}
}

// Peers lists the members this node sees for `servent peers`. For this
// node, a leaf, AttachedTo is its ultrapeers; for another leaf it is this
// node when that leaf registered here (no node knows every attachment).
func (d *Daemon) Peers() []api.Peer {
	self := d.ov.Name()
	var out []api.Peer
	for _, m := range d.ov.Members() {
		p := api.Peer{
			Name:        m.Name,
			Role:        m.Meta.Role.String(),
			State:       m.State.String(),
			Shares:      int(m.Meta.Shares),
			Fingerprint: m.Meta.Fingerprint.String(),
			Self:        m.Name == self,
		}
		if path, verified, ok := d.ov.PathTo(m); ok {
			p.Addr, p.Verified = path.String(), verified
		}
		p.Candidates = addrStrings(m.Meta.Addrs)
		if m.Meta.Role == role.Leaf {
			if p.Self {
				p.AttachedTo = d.leaves.attached()
			} else if _, ok := d.registry.OwnerVersion(m.Name); ok {
				p.AttachedTo = []string{self}
			}
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b api.Peer) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// addrStrings formats addresses for the control API.
func addrStrings(as []netip.Addr) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}
