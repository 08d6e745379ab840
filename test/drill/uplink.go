//go:build linux

package drill

import (
	"context"
	"fmt"
	"strconv"
)

// ShapeUplink limits the traffic host i sends into the LAN to rate (tc
// units, e.g. "100mbit") with a token bucket on its own eth0; with Shape
// on the same host both directions of its link are limited, as on a real
// cable. An empty rate removes the limit.
func (l *LAN) ShapeUplink(ctx context.Context, i int, rate string) error {
	ns := l.Hosts[i].NS
	if rate == "" {
		_, err := run(ctx, "tc", "-n", ns, "qdisc", "del", "dev", "eth0", "root")
		return err
	}
	_, err := run(ctx, "tc", "-n", ns, "qdisc", "replace", "dev", "eth0", "root",
		"tbf", "rate", rate, "burst", "64kb", "latency", "400ms")
	return err
}

// TxBytes returns the bytes host i has sent on its eth0 so far (the
// kernel's counter: every packet, headers included).
func (l *LAN) TxBytes(ctx context.Context, i int) (int64, error) {
	out, err := run(ctx, "ip", "netns", "exec", l.Hosts[i].NS, "cat", "/sys/class/net/eth0/statistics/tx_bytes")
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("drill: tx_bytes of %s: %w", l.Hosts[i].Name, err)
	}
	return n, nil
}
