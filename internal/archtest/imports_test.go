package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// module is servent's module path; the tables below name packages relative
// to it.
const module = "github.com/servent-p2p/servent"

// allowed is the import direction (docs/ARCHITECTURE.md): for every servent
// package, the servent packages its non-test files may import. A package
// missing from the table fails the test, so a new package states its place
// here and in its doc.go. Dependencies point down: cmd/servent → daemon →
// (web, transfer, ultrapeer, query, overlay) → storage → content, with role
// below overlay, ultrapeer and query alike.
var allowed = map[string][]string{
	"role":              {},
	"content":           {},
	"internal/names":    {},
	"internal/words":    {},
	"internal/proc":     {},
	"internal/testutil": {},
	"internal/archtest": {},
	"internal/chart":    {},
	"internal/safefile": {},
	"query/matchtest":   {},
	"query":             {"content", "role"},
	"ultrapeer":         {"content", "query", "role"},
	"storage":           {"content"},
	"overlay":           {"role"},
	"configs":           {"role"},
	"transfer":          {"content", "storage"},
	"browse":            {"content"},
	"kit":               {"content", "internal/safefile"},
	"api":               {"content", "internal/names", "storage", "transfer"},
	"web":               {"api", "browse", "content", "internal/names", "internal/words", "kit"},
	"sim":               {"api", "content", "internal/chart", "internal/proc", "query", "role", "ultrapeer"},
	"daemon": {"api", "browse", "configs", "content", "internal/safefile", "internal/names", "kit", "overlay",
		"query", "role", "storage", "transfer", "ultrapeer", "web"},
	"cmd/servent": {"api", "browse", "configs", "content", "daemon", "internal/names", "internal/words", "kit",
		"role", "sim", "storage"},
	"cmd/kit":    {"kit"},
	"test/drill": {"api", "content", "internal/proc"},
	"test/scale": {},
}

// pure are the packages that the daemon and the simulator both drive: they
// must not depend, even indirectly, on a package that does I/O.
var pure = []string{"content", "query", "role", "ultrapeer"}

// ioModules are the I/O libraries no pure package may depend on, nor on
// any package inside them.
var ioModules = []string{
	"github.com/dgraph-io/badger",
	"github.com/fsnotify/fsnotify",
	"github.com/hashicorp/memberlist",
	"github.com/quic-go/quic-go",
}

// ioStd are the standard packages no pure package may depend on: sockets
// (net, which every network package imports) and processes. net/netip,
// plain address values, is allowed.
var ioStd = []string{"net", "os/exec"}

// listedPackage is the part of `go list -json` output the test reads.
type listedPackage struct {
	ImportPath string
	Dir        string
	Imports    []string
	Standard   bool
}

// goList runs `go list -deps -json ./...` at the module root once for all
// tests and returns every package, servent's and their dependencies, by
// import path.
var goList = sync.OnceValues(func() (map[string]*listedPackage, error) {
	root, err := findModuleRoot()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "list", "-deps", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w\n%s", err, stderr.Bytes())
	}
	pkgs := make(map[string]*listedPackage)
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(listedPackage)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("decoding go list: %w", err)
		}
		pkgs[p.ImportPath] = p
	}
})

// listPackages is goList for a test, which it fails on error.
func listPackages(t *testing.T) map[string]*listedPackage {
	t.Helper()
	pkgs, err := goList()
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// local returns path relative to module, and whether it is servent's.
func local(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	return strings.CutPrefix(path, module+"/")
}

// servent returns servent's own packages, sorted by import path, each with
// its path relative to module.
func servent(pkgs map[string]*listedPackage) (own []*listedPackage, rel []string) {
	for _, path := range slices.Sorted(maps.Keys(pkgs)) {
		if r, ok := local(path); ok {
			own, rel = append(own, pkgs[path]), append(rel, r)
		}
	}
	return own, rel
}

// TestImportDirection: every servent package imports only the servent
// packages the allowed table gives it.
func TestImportDirection(t *testing.T) {
	own, rel := servent(listPackages(t))
	for i, p := range own {
		from := rel[i]
		may, known := allowed[from]
		if !known {
			t.Errorf("package %s is not in the allowed table: add its row in internal/archtest/imports_test.go and its import rule to its doc.go", from)
			continue
		}
		for _, imp := range p.Imports {
			to, ok := local(imp)
			if !ok || slices.Contains(may, to) {
				continue
			}
			t.Errorf("%s imports %s; it may import only %v", from, to, may)
		}
	}
}

// TestPureImportsNoIO: the pure packages depend, directly or not, on no
// I/O library (`go list -deps ./query ./ultrapeer` shows no badger,
// fsnotify, memberlist or quic-go) and on no socket or process package.
func TestPureImportsNoIO(t *testing.T) {
	pkgs := listPackages(t)
	for _, name := range pure {
		p, ok := pkgs[module+"/"+name]
		if !ok {
			t.Logf("pure package %s does not exist (yet)", name)
			continue
		}
		if chain := ioChain(pkgs, p.ImportPath, make(map[string]bool)); chain != nil {
			t.Errorf("%s depends on an I/O library: %s", name, strings.Join(chain, " → "))
		}
	}
}

// ioChain returns the import chain from path to the first I/O library it
// reaches, or nil.
func ioChain(pkgs map[string]*listedPackage, path string, visited map[string]bool) []string {
	if visited[path] {
		return nil
	}
	visited[path] = true
	for _, m := range ioModules {
		if path == m || strings.HasPrefix(path, m+"/") {
			return []string{path}
		}
	}
	if slices.Contains(ioStd, path) {
		return []string{path}
	}
	p, ok := pkgs[path]
	if !ok || p.Standard {
		return nil
	}
	for _, imp := range p.Imports {
		if rest := ioChain(pkgs, imp, visited); rest != nil {
			return append([]string{path}, rest...)
		}
	}
	return nil
}

// importRule finds the statement of what a package may import in its
// doc.go: a paragraph starting "Imports:", or a "# What it may import"
// section.
var importRule = regexp.MustCompile(`(?m)^// (Imports:|# What it may import$)`)

// TestDocStatesImports: every servent package has a doc.go whose comment
// says what the package may import (importRule).
func TestDocStatesImports(t *testing.T) {
	own, rel := servent(listPackages(t))
	for i, p := range own {
		name := rel[i]
		doc, err := os.ReadFile(filepath.Join(p.Dir, "doc.go"))
		if err != nil {
			t.Errorf("package %s has no doc.go: %v", name, err)
			continue
		}
		if !importRule.Match(doc) {
			t.Errorf("%s/doc.go does not say what the package may import (a paragraph starting \"Imports:\" or a section \"# What it may import\")", name)
		}
	}
}
