package configs

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// DefaultYAML is configs/servent.yaml: every key with its default.
//
//go:embed servent.yaml
var DefaultYAML []byte

// EnvPrefix is the prefix of environment variables (SERVENT_DATA, ...).
const EnvPrefix = "SERVENT"

// ErrInvalid marks a configuration error: a bad value, an unknown key or an
// unreadable config file. The CLI exits with status 2 on it.
var ErrInvalid = errors.New("invalid configuration")

// Config is the user-facing configuration, one field per key of
// servent.yaml.
type Config struct {
	Data               string        `mapstructure:"data"`
	Shares             []string      `mapstructure:"shares"`
	Kit                string        `mapstructure:"kit"`
	OfferSelf          bool          `mapstructure:"offer_self"`
	Listen             string        `mapstructure:"listen"`
	Advertise          string        `mapstructure:"advertise"`
	Seeds              []string      `mapstructure:"seeds"`
	Name               string        `mapstructure:"name"`
	Role               string        `mapstructure:"role"`
	Key                string        `mapstructure:"key"`
	KeyFile            string        `mapstructure:"key_file"`
	Discovery          bool          `mapstructure:"discovery"`
	DiscoveryPort      int           `mapstructure:"discovery_port"`
	Routing            string        `mapstructure:"routing"`
	TTL                int           `mapstructure:"ttl"`
	LeavesPerUltrapeer int           `mapstructure:"leaves_per_ultrapeer"`
	UltrapeersPerLeaf  int           `mapstructure:"ultrapeers_per_leaf"`
	MaxLeaves          int           `mapstructure:"max_leaves"`
	MeshDegree         int           `mapstructure:"mesh_degree"`
	FloodDegree        int           `mapstructure:"flood_degree"`
	LastHopQRP         bool          `mapstructure:"last_hop_qrp"`
	QueryRate          float64       `mapstructure:"query_rate"`
	MaxUploads         int           `mapstructure:"max_uploads"`
	Swarm              bool          `mapstructure:"swarm"`
	PartialWait        time.Duration `mapstructure:"partial_wait"`
	RescanInterval     time.Duration `mapstructure:"rescan_interval"`
	Capacity           float64       `mapstructure:"capacity"`
	MetricsListen      string        `mapstructure:"metrics_listen"`
	WebListen          string        `mapstructure:"web_listen"`
	WebUpload          bool          `mapstructure:"web_upload"`
	WebUploadQuotaMiB  int           `mapstructure:"web_upload_quota_mib"`
	WebCacheMiB        int           `mapstructure:"web_cache_mib"`
	WebZipMiB          int           `mapstructure:"web_zip_mib"`
	FaultInjection     string        `mapstructure:"fault_injection"`
	LogLevel           string        `mapstructure:"log_level"`
}

// Load builds the configuration: defaults from servent.yaml, then the file
// (when file is not empty), then SERVENT_* environment variables, then the
// flags of fs that were set on the command line. A flag named like a key
// ("data", "listen") overrides it; "share" and "seed" override "shares" and
// "seeds". Load validates the result; errors wrap ErrInvalid.
func Load(file string, fs *pflag.FlagSet) (Config, error) {
	v := viper.New()
	defaults := map[string]any{}
	if err := yaml.Unmarshal(DefaultYAML, &defaults); err != nil {
		return Config{}, fmt.Errorf("embedded servent.yaml: %w", err)
	}
	for k, val := range defaults {
		v.SetDefault(k, val)
		// Binding every key makes environment-only keys visible to Unmarshal.
		if err := v.BindEnv(k, EnvPrefix+"_"+strings.ToUpper(k)); err != nil {
			return Config{}, err
		}
	}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return Config{}, fmt.Errorf("%w: config file: %v", ErrInvalid, err)
		}
		if err := checkKnownKeys(file, raw, defaults); err != nil {
			return Config{}, err
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(raw)); err != nil {
			return Config{}, fmt.Errorf("%w: config file %s: %v", ErrInvalid, file, err)
		}
	}
	if err := bindFlags(v, fs, defaults); err != nil {
		return Config{}, err
	}
	var c Config
	err := v.Unmarshal(&c, func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		)
	})
	if err != nil {
		return Config{}, fmt.Errorf("%w: %s (every key is listed in configs/servent.yaml)", ErrInvalid, strings.Join(strings.Fields(err.Error()), " "))
	}
	if c.Data == "" {
		c.Data = DefaultDataDir()
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// bindFlags binds the flags of fs (nil: none) to the keys they override:
// "share" and "seed" to "shares" and "seeds", every other flag to the key
// it is named like ("web-listen" to "web_listen").
func bindFlags(v *viper.Viper, fs *pflag.FlagSet, keys map[string]any) error {
	if fs == nil {
		return nil
	}
	for flag, key := range map[string]string{"share": "shares", "seed": "seeds"} {
		if f := fs.Lookup(flag); f != nil {
			if err := v.BindPFlag(key, f); err != nil {
				return err
			}
		}
	}
	for k := range keys {
		if f := fs.Lookup(strings.ReplaceAll(k, "_", "-")); f != nil {
			if err := v.BindPFlag(k, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkKnownKeys refuses keys in the file that servent does not know (a
// typo silently ignored is the worst kind of config error).
func checkKnownKeys(file string, raw []byte, known map[string]any) error {
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%w: config file %s: %v", ErrInvalid, file, err)
	}
	for k := range m {
		if _, ok := known[k]; !ok {
			return fmt.Errorf("%w: %s: unknown key %q (every key is listed in configs/servent.yaml)", ErrInvalid, file, k)
		}
	}
	return nil
}
