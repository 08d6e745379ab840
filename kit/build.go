package kit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Options are the inputs of a kit build. Everything that reaches the
// binaries' bytes is here or in the source tree: the same options, source
// and Go toolchain give the same bytes.
type Options struct {
	Out     string   // folder to write the kit into (created)
	Version string   // stamped into `servent version`
	Targets []Target // default: every kit target
	Source  string   // the servent module's root; default the working dir
	GoCache string   // GOCACHE for the builds; default the user's
}

// Build cross-compiles cmd/servent for every target into o.Out and writes
// the checksum files. It blocks until every build is done; one failed build
// fails the kit.
func Build(ctx context.Context, o Options) ([]Binary, error) {
	if o.Out == "" || o.Version == "" {
		return nil, fmt.Errorf("kit: an output folder and a version are required")
	}
	targets := o.Targets
	if len(targets) == 0 {
		targets = Targets
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	var bins []Binary
	for _, t := range sortedTargets(targets) {
		path := filepath.Join(o.Out, t.FileName())
		if err := goBuild(ctx, o, t, path); err != nil {
			return nil, err
		}
		sha, b3, size, err := Sum(path)
		if err != nil {
			return nil, err
		}
		bins = append(bins, Binary{Target: t, Name: t.FileName(), Size: size, SHA256: sha, BLAKE3: b3.String()})
	}
	return bins, writeSums(o.Out, bins)
}

// goBuild runs go build for one target with everything that could vary
// between machines pinned: no cgo, no file paths (-trimpath), no VCS
// stamp (-buildvcs=false: the version says which source it is), symbols
// stripped, and the instruction-set levels written out. GOFLAGS from the
// environment is cleared so that it cannot add flags.
func goBuild(ctx context.Context, o Options, t Target, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.version="+o.Version, "-o", out, "./cmd/servent")
	cmd.Dir = o.Source
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH,
		"GOARM=6", "GOAMD64=v1", "GOARM64=v8.0") // GOARM=6 runs on every Raspberry Pi
	if o.GoCache != "" {
		cmd.Env = append(cmd.Env, "GOCACHE="+o.GoCache)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kit: build %s: %w\n%s", t, err, b)
	}
	return nil
}

// sortedTargets orders targets by file name, the order of the sums files.
func sortedTargets(ts []Target) []Target {
	out := slices.Clone(ts)
	slices.SortFunc(out, func(a, b Target) int { return strings.Compare(a.FileName(), b.FileName()) })
	return out
}
