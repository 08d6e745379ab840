package configs

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/servent-p2p/servent/role"
)

// Validate checks every value and returns the first problem as an error
// wrapping ErrInvalid that names the key and says how to fix it.
func (c *Config) Validate() error {
	bad := func(key, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, a...))
	}
	if c.Data == "" {
		return bad("data", "empty; set --data DIR or SERVENT_DATA")
	}
	for _, s := range c.Shares {
		st, err := os.Stat(s)
		if err != nil {
			return bad("shares", "%s: %v; give an existing folder to --share", s, unwrapPath(err))
		}
		if !st.IsDir() {
			return bad("shares", "%s is not a directory; --share takes a folder", s)
		}
	}
	if c.Kit != "" {
		if st, err := os.Stat(c.Kit); err != nil || !st.IsDir() {
			return bad("kit", "%s is not a folder; point --kit at the folder `go run ./cmd/kit -out DIR` wrote", c.Kit)
		}
	}
	if err := checkAddrPort("listen", c.Listen, false); err != nil {
		return err
	}
	if c.Advertise != "" {
		if a, err := netip.ParseAddr(c.Advertise); err != nil || a.IsUnspecified() || a.IsMulticast() || a.Zone() != "" {
			return bad("advertise", "%q is not a unicast IP address of this host; give one such as 192.168.1.20, or leave advertise empty", c.Advertise)
		}
	}
	for _, s := range c.Seeds {
		if err := checkAddrPort("seeds", s, true); err != nil {
			return err
		}
	}
	if _, err := role.Parse(c.Role); err != nil {
		return bad("role", "%q is not a role; use auto, leaf or ultrapeer", c.Role)
	}
	switch c.Routing {
	case "smart", "flood":
	default:
		return bad("routing", "%q is not a routing mode; use smart or flood", c.Routing)
	}
	if c.KeyFile != "" {
		if _, err := os.Stat(c.KeyFile); err != nil {
			return bad("key_file", "%v; point key_file at a file holding the drill passphrase", unwrapPath(err))
		}
	}
	checks := []struct {
		key      string
		val      int
		min, max int
	}{
		{"discovery_port", c.DiscoveryPort, 1, 65535},
		{"ttl", c.TTL, 1, 7},
		{"leaves_per_ultrapeer", c.LeavesPerUltrapeer, 1, 10000},
		{"ultrapeers_per_leaf", c.UltrapeersPerLeaf, 1, 16},
		{"max_leaves", c.MaxLeaves, 1, 100000},
		{"mesh_degree", c.MeshDegree, 1, 1000},
		{"flood_degree", c.FloodDegree, 1, 1000},
		{"max_uploads", c.MaxUploads, 1, 10000},
	}
	for _, ch := range checks {
		if ch.val < ch.min || ch.val > ch.max {
			return bad(ch.key, "%d is out of range; use a whole number from %d to %d", ch.val, ch.min, ch.max)
		}
	}
	if avg := (c.LeavesPerUltrapeer - 1) * c.UltrapeersPerLeaf; c.MaxLeaves < avg {
		return fmt.Errorf("%w: max_leaves %d, leaves_per_ultrapeer %d and ultrapeers_per_leaf %d cannot all hold: "+
			"each ultrapeer would hold (%d-1)*%d = %d leaves on average; raise max_leaves to %d or more, or lower leaves_per_ultrapeer or ultrapeers_per_leaf",
			ErrInvalid, c.MaxLeaves, c.LeavesPerUltrapeer, c.UltrapeersPerLeaf, c.LeavesPerUltrapeer, c.UltrapeersPerLeaf, avg, avg)
	}
	if c.QueryRate <= 0 {
		return bad("query_rate", "%v must be above 0 (queries per second per origin)", c.QueryRate)
	}
	if c.Capacity < 0 {
		return bad("capacity", "%v must be 0 (measure) or positive", c.Capacity)
	}
	if c.RescanInterval < time.Second {
		return bad("rescan_interval", "%v is too short; use a duration such as 10m", c.RescanInterval)
	}
	if c.MetricsListen != "" {
		ap, err := netip.ParseAddrPort(c.MetricsListen)
		if err != nil || !ap.Addr().IsLoopback() {
			return bad("metrics_listen", "%q must be a loopback IP:PORT such as 127.0.0.1:9346", c.MetricsListen)
		}
	}
	if c.WebListen != "" {
		if _, err := netip.ParseAddrPort(c.WebListen); err != nil {
			return bad("web_listen", "%q is not IP:PORT; use e.g. 0.0.0.0:8080", c.WebListen)
		}
	}
	if c.WebUploadQuotaMiB < 1 {
		return bad("web_upload_quota_mib", "%d must be 1 or more (MiB the web page's uploads may take)", c.WebUploadQuotaMiB)
	}
	if c.WebCacheMiB < 1 {
		return bad("web_cache_mib", "%d must be 1 or more (MiB of the web page's download cache)", c.WebCacheMiB)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log_level", "%q is not a level; use debug, info, warn or error", c.LogLevel)
	}
	return nil
}

func checkAddrPort(key, s string, needHost bool) error {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		if host, port, serr := net.SplitHostPort(s); serr == nil {
			if n, perr := strconv.Atoi(port); perr == nil && (n < 1 || n > 65535) {
				return fmt.Errorf("%w: %s: port %d in %q is out of range; use 1-65535, e.g. %s:6346", ErrInvalid, key, n, s, host)
			}
		}
		return fmt.Errorf("%w: %s: %q is not IP:PORT; use e.g. [::]:6346 (IPv4 and IPv6) or 0.0.0.0:6346 (IPv4 only)", ErrInvalid, key, s)
	}
	if ap.Port() == 0 && needHost {
		return fmt.Errorf("%w: %s: %q needs a port; use e.g. %s:6346", ErrInvalid, key, s, ap.Addr())
	}
	if needHost && ap.Addr().IsUnspecified() {
		return fmt.Errorf("%w: %s: %q is not a host to join; give the peer's address", ErrInvalid, key, s)
	}
	return nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
