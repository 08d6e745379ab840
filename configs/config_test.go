package configs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/servent-p2p/servent/ultrapeer"
)

func flags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.String("data", "", "")
	fs.StringArray("share", nil, "")
	fs.String("listen", "", "")
	fs.Int("ttl", 0, "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "servent.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsComeFromYAML(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/tmp/x")
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "[::]:6346" || c.Role != "auto" || c.TTL != 4 || c.RescanInterval != 10*time.Minute || !c.LastHopQRP {
		t.Fatalf("defaults: %+v", c)
	}
	want := "/tmp/x/servent" // XDG_DATA_HOME counts on Linux and other unix systems
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		want = DefaultDataDir() // platform_test.go checks each platform's rule
	}
	if c.Data != want {
		t.Fatalf("data default %q, want %q", c.Data, want)
	}
}

func TestEveryFieldIsDocumented(t *testing.T) {
	var m map[string]any
	if err := yaml.Unmarshal(DefaultYAML, &m); err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(Config{})
	for i := range typ.NumField() {
		key := typ.Field(i).Tag.Get("mapstructure")
		if _, ok := m[key]; !ok {
			t.Errorf("field %s: key %q missing from servent.yaml", typ.Field(i).Name, key)
		}
		if !strings.Contains(string(DefaultYAML), "\n"+key+":") {
			t.Errorf("key %q not at the start of a line", key)
		}
	}
	if len(m) != typ.NumField() {
		t.Errorf("servent.yaml has %d keys, Config %d fields", len(m), typ.NumField())
	}
}

func TestPrecedence(t *testing.T) {
	shareA, shareB := t.TempDir(), t.TempDir()
	file := writeFile(t, "ttl: 2\nlisten: 127.0.0.1:7000\ndata: /from/file\nshares: ["+shareA+"]\n")
	t.Setenv("SERVENT_TTL", "3")
	t.Setenv("SERVENT_DATA", "/from/env")
	t.Setenv("SERVENT_ROUTING", "flood") // only in the environment
	c, err := Load(file, flags(t, "--data", "/from/flag", "--share", shareB))
	if err != nil {
		t.Fatal(err)
	}
	if c.Data != "/from/flag" {
		t.Errorf("flag should beat env and file: data=%q", c.Data)
	}
	if c.TTL != 3 {
		t.Errorf("env should beat file: ttl=%d", c.TTL)
	}
	if c.Listen != "127.0.0.1:7000" {
		t.Errorf("file should beat default: listen=%q", c.Listen)
	}
	if c.Routing != "flood" {
		t.Errorf("env-only key ignored: routing=%q", c.Routing)
	}
	if !slices.Equal(c.Shares, []string{shareB}) {
		t.Errorf("--share should replace shares: %q", c.Shares)
	}
}

func TestEnvList(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	t.Setenv("SERVENT_SHARES", a+","+b)
	t.Setenv("SERVENT_DATA", t.TempDir())
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Shares, []string{a, b}) {
		t.Fatalf("shares from env: %q", c.Shares)
	}
}

func TestBadConfigNamesKeyAndFix(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file.txt")
	os.WriteFile(notDir, []byte("x"), 0o600)
	tests := []struct {
		name, yaml, want string
	}{
		{"port out of range", "listen: 0.0.0.0:70000", "listen: port 70000"},
		{"not an address", "listen: nowhere", "listen:"},
		{"negative ttl", "ttl: -1", "ttl: -1 is out of range"},
		{"ttl too big", "ttl: 9", "ttl: 9 is out of range"},
		{"share is a file", "shares: [" + notDir + "]", "is not a directory"},
		{"share missing", "shares: [/does/not/exist]", "shares: /does/not/exist"},
		{"unknown key", "tll: 3", `unknown key "tll"`},
		{"bad role", "role: boss", "role:"},
		{"bad routing", "routing: gossip", "routing:"},
		{"seed without port", "seeds: [10.0.0.1]", "seeds:"},
		{"seed a host name", "seeds: [pi4.local:6346]", `seeds: "pi4.local" is a host name; servent does not look names up (there is no DNS in an outage): give the peer's IP address`},
		{"listen on a host name", "listen: myhost:6346", `listen: "myhost" is a host name; servent does not look names up (there is no DNS in an outage): give one of this host's IP addresses`},
		{"advertise with a port", "advertise: 10.0.0.1:6346", "advertise:"},
		{"advertise unspecified", "advertise: \"::\"", "advertise:"},
		{"advertise a name", "advertise: myhost", "advertise:"},
		{"metrics not loopback", "metrics_listen: 0.0.0.0:9000", "metrics_listen:"},
		{"no zip from the page", "web_zip_mib: 0", "web_zip_mib: 0 must be 1 or more"},
		{"wrong type", "ttl: many", "ttl"},
		{"bad duration", "rescan_interval: soon", "rescan_interval"},
		{"leaf cap below the average load", "max_leaves: 60", "max_leaves 60, leaves_per_ultrapeer 30 and ultrapeers_per_leaf 3 cannot all hold"},
		{"too many leaves per ultrapeer", "leaves_per_ultrapeer: 50", "raise max_leaves to 147 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SERVENT_DATA", t.TempDir())
			_, err := Load(writeFile(t, tt.yaml), nil)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error should be one line: %q", err)
			}
		})
	}
}

func TestMissingConfigFile(t *testing.T) {
	if _, err := Load("/nonexistent/servent.yaml", nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
}

// TestHierarchyDefaultsAreThePlanners: servent.yaml and package ultrapeer
// agree on the hierarchy defaults (the simulator uses ultrapeer's).
func TestHierarchyDefaultsAreThePlanners(t *testing.T) {
	t.Setenv("SERVENT_DATA", t.TempDir())
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := ultrapeer.DefaultPlanConfig()
	got := []int{c.LeavesPerUltrapeer, c.UltrapeersPerLeaf, c.MaxLeaves, c.MeshDegree, c.FloodDegree}
	want := []int{p.Election.LeavesPerUltrapeer, p.Election.UltrapeersPerLeaf, p.Election.MaxLeaves, p.MeshDegree, p.FloodDegree}
	if !slices.Equal(got, want) {
		t.Fatalf("servent.yaml %v, ultrapeer defaults %v", got, want)
	}
}
