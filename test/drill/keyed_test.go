//go:build linux

package drill

import (
	"testing"
	"time"
)

// TestColdStartKeyed is scenario 1 with a drill key on a LAN whose router
// is down (169.254.x.y only, no route), daemons bound to the wildcard
// address as a person starts them: keyed beacons bind the sender's
// addresses and clock into their MAC (beacon version 3), so this proves
// that the source addresses real interfaces give beacons, IPv4 link-local
// and IPv6 link-local, are the ones the senders list.
func TestColdStartKeyed(t *testing.T) {
	if testing.Short() {
		t.Skip("drill: -short runs only the 6-host cold start")
	}
	ctx := t.Context()
	d := newDrill(t, LANConfig{Hosts: 4, LinkLocal: true}, smallFiles)
	launch := time.Now()
	d.start(ctx, d.all(), func(int) StartOptions {
		return StartOptions{DefaultListen: true, Env: []string{"SERVENT_KEY=keyed cold start drill"}}
	})
	d.waitConverged(ctx, d.all(), 90*time.Second)
	t.Logf("keyed cold start: 4 hosts (169.254.0.0/16 only, no route, 0.0.0.0:6346), one network after %s",
		time.Since(launch).Round(time.Millisecond))
	t.Logf("how they joined:\n%s", d.describe(ctx, d.all()))
	if recall := d.searchAll(ctx, d.all()); recall < 1 {
		t.Errorf("first-try recall %.3f, want 1", recall)
	}
}
