package kit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrBadSum means a binary's bytes differ from its kit's checksum file: a
// damaged or tampered copy, never to be offered.
var ErrBadSum = errors.New("checksum mismatch")

// ReadFolder lists the servent binaries in dir (files named like a
// target's FileName), hashing each. When dir holds SHA256SUMS, every binary
// it lists must match it. It blocks while hashing (about 0.1 s per binary).
func ReadFolder(dir string) ([]Binary, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("kit folder: %w", err)
	}
	want, err := readSums(filepath.Join(dir, SHA256File))
	if err != nil {
		return nil, fmt.Errorf("kit folder: %w", err)
	}
	var bins []Binary
	for _, e := range ents {
		t, ok := TargetOfFile(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		sha, b3, size, err := Sum(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("kit folder: %w", err)
		}
		if w, listed := want[e.Name()]; listed && w != sha {
			return nil, fmt.Errorf("kit folder: %s: %w with %s", e.Name(), ErrBadSum, SHA256File)
		}
		bins = append(bins, Binary{Target: t, Name: e.Name(), Size: size, SHA256: sha, BLAKE3: b3.String()})
	}
	return bins, nil
}

// ForUserAgent returns the targets that run on the computer whose browser
// sent the User-Agent ua, best first; none for phones and tablets (they use
// the page itself) and for what it cannot tell.
//
// Browsers hide the CPU where they can: Windows on ARM reports x64 (and runs
// amd64 binaries), and a Mac always says Intel, so both Mac builds are
// offered, Apple silicon first (an Intel build needs Rosetta, which cannot
// be installed without internet).
func ForUserAgent(ua string) []Target {
	has := func(s ...string) bool {
		return slices.ContainsFunc(s, func(x string) bool { return strings.Contains(ua, x) })
	}
	switch {
	case has("Android", "iPhone", "iPad", "iPod"):
		return nil
	case has("Windows NT"):
		if has("ARM64") {
			return []Target{{"windows", "arm64"}, {"windows", "amd64"}}
		}
		return []Target{{"windows", "amd64"}}
	case has("Macintosh", "Mac OS X"):
		return []Target{{"darwin", "arm64"}, {"darwin", "amd64"}}
	case has("aarch64", "arm64"):
		return []Target{{"linux", "arm64"}, {"linux", "arm"}}
	case has("armv7", "armv6", "armv8l"):
		return []Target{{"linux", "arm"}}
	case has("Linux", "X11", "CrOS"):
		return []Target{{"linux", "amd64"}}
	}
	return nil
}
