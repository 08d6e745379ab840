package configs

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readmeKeys returns the keys README.md lists under "## Configuration": the
// backquoted names of the bullet list that follows "The keys".
func readmeKeys(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no Configuration section")
	}
	_, list, ok := strings.Cut(sec, "\nThe keys")
	if !ok {
		t.Fatal(`README.md's Configuration section has no "The keys" list`)
	}
	_, list, _ = strings.Cut(list, "\n\n") // the sentence introducing the list
	list, _, _ = strings.Cut(list, "\n\n")
	var keys []string
	for _, m := range regexp.MustCompile("`([a-z0-9_]+)`").FindAllStringSubmatch(list, -1) {
		keys = append(keys, m[1])
	}
	slices.Sort(keys)
	return keys
}

// TestKeysInStep: servent.yaml, the Config struct and README.md's key list
// name the same keys; the failure says which key is missing where.
func TestKeysInStep(t *testing.T) {
	var fields []string
	typ := reflect.TypeOf(Config{})
	for i := range typ.NumField() {
		fields = append(fields, typ.Field(i).Tag.Get("mapstructure"))
	}
	slices.Sort(fields)
	places := map[string][]string{
		"configs/servent.yaml": Keys(),
		"the Config struct":    fields,
		"README.md's key list": readmeKeys(t),
	}
	all := map[string]bool{}
	for _, keys := range places {
		for _, k := range keys {
			all[k] = true
		}
	}
	for place, keys := range places {
		for k := range all {
			if !slices.Contains(keys, k) {
				t.Errorf("key %q is missing from %s", k, place)
			}
		}
		if len(slices.Compact(slices.Clone(keys))) != len(keys) {
			t.Errorf("%s lists a key twice: %q", place, keys)
		}
	}
	if len(all) < 25 {
		t.Fatalf("only %d keys found: the README list was not read", len(all))
	}
}
