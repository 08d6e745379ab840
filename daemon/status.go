package daemon

import (
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
)

// Status reports the node's own state for `servent status`.
func (d *Daemon) Status() api.Status {
	d.topoMu.Lock()
	t := d.topo
	d.topoMu.Unlock()
	st := d.ov.Stats()
	s := api.Status{
		Name:        d.ov.Name(),
		Version:     d.version,
		Role:        t.role.String(),
		Routing:     d.cfg.Routing,
		Listen:      d.ov.LocalAddr().String(),
		Addresses:   addrStrings(d.ov.Addrs()),
		Fingerprint: d.ov.Fingerprint().String(),
		Open:        d.cfg.Key == "" && d.cfg.KeyFile == "",
		Uptime:      time.Since(d.started),
		Members:     d.ov.NumMembers(),
		Ultrapeers:  t.ultrapeers,
		Mesh:        t.neighbours,
		JoinedVia:   st.JoinedVia,
		Shares:      d.store.Count(),
		Scanning:    d.scanning.Load(),
	}
	switch t.role {
	case role.Leaf:
		s.AttachedTo = d.leaves.attached()
	case role.Ultrapeer:
		s.Leaves = d.registry.Leaves()
	}
	if files, err := d.store.Files(); err == nil {
		for _, f := range files {
			s.SharedBytes += f.Size
		}
	}
	if p, ok := st.Planes[0x02]; ok {
		s.Datagrams.In, s.Datagrams.Out = p.In, p.Out
	}
	s.Datagrams.Dropped = st.DroppedQUICQueue + st.DroppedUnknownPlane + st.DroppedNonMember +
		st.DroppedUnauthenticated + st.DroppedNoPath + st.DroppedSend
	for _, p := range st.Planes {
		s.Datagrams.Dropped += p.Dropped
	}
	var c query.Counters
	d.withRouter(func(r *query.Router) { c = r.Counters() })
	s.Datagrams.Malformed = c.Malformed + st.DroppedMalformed
	s.Query = c
	s.Transfer = d.server.Stats()
	return s
}
