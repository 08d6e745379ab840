package daemon

import (
	"testing"

	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/query"
)

// TestRouterConfig: routing, last_hop_qrp and query_rate reach the
// routing core; dynamic querying runs only in smart routing.
func TestRouterConfig(t *testing.T) {
	for _, c := range []struct {
		routing string
		mode    query.Mode
		dynamic bool
	}{
		{"smart", query.Smart, true},
		{"flood", query.Flood, false},
	} {
		rc := routerConfig(configs.Config{Routing: c.routing, LastHopQRP: true, QueryRate: 7}, "me")
		if rc.Self != "me" || rc.Mode != c.mode || rc.Dynamic.On != c.dynamic || !rc.LastHopQRP ||
			rc.QueryRate != 7 || rc.QueryBurst != query.Burst(7) {
			t.Errorf("%s: %+v", c.routing, rc)
		}
	}
}
