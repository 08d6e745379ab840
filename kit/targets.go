package kit

import (
	"fmt"
	"strings"
)

// Target is one platform servent is built for.
type Target struct {
	GOOS, GOARCH string
}

// Targets are the platforms of a drill kit: Linux PCs and Raspberry Pis,
// Windows and macOS laptops, on Intel and ARM.
var Targets = []Target{
	{"linux", "amd64"},
	{"linux", "arm64"},
	{"linux", "arm"},
	{"windows", "amd64"},
	{"windows", "arm64"},
	{"darwin", "amd64"},
	{"darwin", "arm64"},
}

// String is "goos/goarch".
func (t Target) String() string { return t.GOOS + "/" + t.GOARCH }

// FileName is the binary's name in a kit: servent-goos-goarch, with .exe on
// Windows.
func (t Target) FileName() string {
	name := "servent-" + t.GOOS + "-" + t.GOARCH
	if t.GOOS == "windows" {
		name += ".exe"
	}
	return name
}

// Label is the platform as a person names it ("Windows (Intel/AMD 64-bit)").
func (t Target) Label() string {
	os := map[string]string{"linux": "Linux", "windows": "Windows", "darwin": "macOS"}[t.GOOS]
	arch := map[string]string{
		"amd64": "Intel/AMD 64-bit",
		"arm64": "ARM 64-bit",
		"arm":   "ARM 32-bit, Raspberry Pi",
	}[t.GOARCH]
	if t.GOOS == "darwin" {
		arch = map[string]string{"amd64": "Intel", "arm64": "Apple silicon"}[t.GOARCH]
	}
	return fmt.Sprintf("%s (%s)", os, arch)
}

// ParseTarget reads "goos/goarch" and accepts only a kit target.
func ParseTarget(s string) (Target, error) {
	goos, goarch, _ := strings.Cut(s, "/")
	for _, t := range Targets {
		if t.GOOS == goos && t.GOARCH == goarch {
			return t, nil
		}
	}
	return Target{}, fmt.Errorf("%q is not a kit platform; use one of %s", s, targetList())
}

// TargetOfFile returns the target whose binary is named name.
func TargetOfFile(name string) (Target, bool) {
	for _, t := range Targets {
		if t.FileName() == name {
			return t, true
		}
	}
	return Target{}, false
}

func targetList() string {
	var s []string
	for _, t := range Targets {
		s = append(s, t.String())
	}
	return strings.Join(s, ", ")
}
