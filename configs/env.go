package configs

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Keys returns every configuration key (the keys of servent.yaml), sorted.
func Keys() []string {
	var m map[string]any
	if err := yaml.Unmarshal(DefaultYAML, &m); err != nil {
		panic("embedded servent.yaml: " + err.Error()) // pinned by the package's tests
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// UnknownEnv returns the names of the variables in environ (os.Environ's
// KEY=VALUE form) that start with SERVENT_ but name no key: Load ignores
// them, so a misspelt SERVENT_SHARE would otherwise go unnoticed. They are
// not refused, since other tools (the test suite's SERVENT_BENCH_* knobs)
// share the prefix. Sorted.
func UnknownEnv(environ []string) []string {
	known := make(map[string]bool)
	for _, k := range Keys() {
		known[EnvPrefix+"_"+strings.ToUpper(k)] = true
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, EnvPrefix+"_") && !known[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
