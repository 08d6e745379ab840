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
	for _, check := range []func() error{
		c.checkFolders, c.checkNetwork, c.checkModes, c.checkKeyFile,
		c.checkNumbers, c.checkServers, c.checkLogLevel,
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// invalid is the error for a bad value of key: ErrInvalid, the key, and
// what is wrong with it.
func invalid(key, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, a...))
}

// checkFolders checks data, shares and kit.
func (c *Config) checkFolders() error {
	if c.Data == "" {
		return invalid("data", "empty; set --data DIR or SERVENT_DATA")
	}
	for _, s := range c.Shares {
		st, err := os.Stat(s)
		if err != nil {
			return invalid("shares", "%s: %v; give an existing folder to --share", s, unwrapPath(err))
		}
		if !st.IsDir() {
			return invalid("shares", "%s is not a directory; --share takes a folder", s)
		}
	}
	if c.Kit != "" {
		if st, err := os.Stat(c.Kit); err != nil || !st.IsDir() {
			return invalid("kit", "%s is not a folder; point --kit at the folder `go run ./cmd/kit -out DIR` wrote", c.Kit)
		}
	}
	return nil
}

// checkNetwork checks listen, advertise and seeds.
func (c *Config) checkNetwork() error {
	if err := checkAddrPort("listen", c.Listen, false); err != nil {
		return err
	}
	if c.Advertise != "" {
		if a, err := netip.ParseAddr(c.Advertise); err != nil || a.IsUnspecified() || a.IsMulticast() || a.Zone() != "" {
			return invalid("advertise", "%q is not a unicast IP address of this host; give one such as 192.168.1.20, or leave advertise empty", c.Advertise)
		}
	}
	for _, s := range c.Seeds {
		if err := checkAddrPort("seeds", s, true); err != nil {
			return err
		}
	}
	return nil
}

// checkModes checks role and routing.
func (c *Config) checkModes() error {
	if _, err := role.Parse(c.Role); err != nil {
		return invalid("role", "%q is not a role; use auto, leaf or ultrapeer", c.Role)
	}
	switch c.Routing {
	case "smart", "flood":
	default:
		return invalid("routing", "%q is not a routing mode; use smart or flood", c.Routing)
	}
	return nil
}

// checkKeyFile checks that key_file, when set, exists.
func (c *Config) checkKeyFile() error {
	if c.KeyFile != "" {
		if _, err := os.Stat(c.KeyFile); err != nil {
			return invalid("key_file", "%v; point key_file at a file holding the drill passphrase", unwrapPath(err))
		}
	}
	return nil
}

// checkNumbers checks the numeric keys' ranges, that the hierarchy's
// numbers can all hold at once, and the rates and intervals.
func (c *Config) checkNumbers() error {
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
			return invalid(ch.key, "%d is out of range; use a whole number from %d to %d", ch.val, ch.min, ch.max)
		}
	}
	if avg := (c.LeavesPerUltrapeer - 1) * c.UltrapeersPerLeaf; c.MaxLeaves < avg {
		return fmt.Errorf("%w: max_leaves %d, leaves_per_ultrapeer %d and ultrapeers_per_leaf %d cannot all hold: "+
			"each ultrapeer would hold (%d-1)*%d = %d leaves on average; raise max_leaves to %d or more, or lower leaves_per_ultrapeer or ultrapeers_per_leaf",
			ErrInvalid, c.MaxLeaves, c.LeavesPerUltrapeer, c.UltrapeersPerLeaf, c.LeavesPerUltrapeer, c.UltrapeersPerLeaf, avg, avg)
	}
	if c.QueryRate <= 0 {
		return invalid("query_rate", "%v must be above 0 (queries per second per origin)", c.QueryRate)
	}
	if c.Capacity < 0 {
		return invalid("capacity", "%v must be 0 (measure) or positive", c.Capacity)
	}
	if c.PartialWait < time.Second {
		return invalid("partial_wait", "%v is too short; use a duration such as 1m", c.PartialWait)
	}
	if c.RescanInterval < time.Second {
		return invalid("rescan_interval", "%v is too short; use a duration such as 10m", c.RescanInterval)
	}
	return nil
}

// checkServers checks the metrics and web page listeners and the web
// page's disk budgets.
func (c *Config) checkServers() error {
	if c.MetricsListen != "" {
		ap, err := netip.ParseAddrPort(c.MetricsListen)
		if err != nil || !ap.Addr().IsLoopback() {
			return invalid("metrics_listen", "%q must be a loopback IP:PORT such as 127.0.0.1:9346", c.MetricsListen)
		}
	}
	if c.WebListen != "" {
		if _, err := netip.ParseAddrPort(c.WebListen); err != nil {
			return invalid("web_listen", "%q is not IP:PORT; use e.g. 0.0.0.0:8080", c.WebListen)
		}
	}
	if c.WebUploadQuotaMiB < 1 {
		return invalid("web_upload_quota_mib", "%d must be 1 or more (MiB the web page's uploads may take)", c.WebUploadQuotaMiB)
	}
	if c.WebCacheMiB < 1 {
		return invalid("web_cache_mib", "%d must be 1 or more (MiB of the web page's download cache)", c.WebCacheMiB)
	}
	if c.WebZipMiB < 1 {
		return invalid("web_zip_mib", "%d must be 1 or more (MiB of one folder the web page sends as a .zip)", c.WebZipMiB)
	}
	return nil
}

// checkLogLevel checks log_level.
func (c *Config) checkLogLevel() error {
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return invalid("log_level", "%q is not a level; use debug, info, warn or error", c.LogLevel)
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
			if _, aerr := netip.ParseAddr(host); aerr != nil && host != "" {
				return hostNameError(key, host, needHost)
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

// hostNameError refuses a host name where an address is needed. servent
// resolves no names: a LAN in an outage has no DNS server, and the binary
// is built without cgo (README, "Platforms"), so the system's resolver
// modules (mDNS .local names, LDAP) are not there either.
func hostNameError(key, host string, peer bool) error {
	whose := "one of this host's IP addresses"
	if peer {
		whose = "the peer's IP address (its `servent status` shows it)"
	}
	return fmt.Errorf("%w: %s: %q is a host name; servent does not look names up (there is no DNS in an outage): give %s, e.g. 192.168.1.20:6346",
		ErrInvalid, key, host, whose)
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
