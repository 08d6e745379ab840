package sim

import "fmt"

// CrossCheck merges a live report with the simulation of the same networks
// (LiveConfig.SimConfig): each live row is followed by the simulated row of
// its mode and TTL, and a note per pair gives the ratio of their messages
// per query. Rows without a partner are kept in place.
func CrossCheck(live, simulated *Report) *Report {
	out := &Report{Notes: append(append([]string(nil), live.Notes...), simulated.Notes...)}
	for _, l := range live.Rows {
		out.Rows = append(out.Rows, l)
		for _, s := range simulated.Rows {
			if s.Mode != l.Mode || s.TTL != l.TTL || s.Nodes != l.Nodes {
				continue
			}
			out.Rows = append(out.Rows, s)
			out.Notes = append(out.Notes, fmt.Sprintf("cross-check %s ttl %d, %d nodes: live %.2f msgs/q, simulated %.2f: live/sim %.3f",
				l.Mode, l.TTL, l.Nodes, l.MsgsPerQuery, s.MsgsPerQuery, l.MsgsPerQuery/s.MsgsPerQuery))
		}
	}
	return out
}
