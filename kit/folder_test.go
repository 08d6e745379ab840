package kit

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestReadFolder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("servent-linux-arm64", "arm64 binary")
	write("servent-windows-amd64.exe", "windows binary")
	write("servent-plan9-386", "not a kit target")
	write("notes.txt", "ignored")
	bins, err := ReadFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 2 {
		t.Fatalf("got %d binaries, want 2: %+v", len(bins), bins)
	}
	if b := bins[0]; b.Target != (Target{"linux", "arm64"}) || b.Size != 12 {
		t.Errorf("first binary %+v", b)
	}
	if err := writeSums(dir, bins); err != nil {
		t.Fatal(err)
	}
	again, err := ReadFolder(dir)
	if err != nil || !reflect.DeepEqual(again, bins) {
		t.Fatalf("with its own sums: %+v, %v", again, err)
	}
	write("servent-linux-arm64", "arm64 binary, damaged")
	if _, err := ReadFolder(dir); !errors.Is(err, ErrBadSum) {
		t.Fatalf("damaged binary: err = %v, want ErrBadSum", err)
	}
	write(SHA256File, "not a sums file\n")
	if _, err := ReadFolder(dir); err == nil {
		t.Fatal("a malformed SHA256SUMS was accepted")
	}
}

func TestForUserAgent(t *testing.T) {
	tests := []struct {
		ua   string
		want []Target
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0", []Target{{"windows", "amd64"}}},
		{"Mozilla/5.0 (Windows NT 10.0; ARM64) Firefox/120.0", []Target{{"windows", "arm64"}, {"windows", "amd64"}}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Safari/605.1.15", []Target{{"darwin", "arm64"}, {"darwin", "amd64"}}},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", []Target{{"linux", "amd64"}}},
		{"Mozilla/5.0 (X11; Linux aarch64; rv:109.0) Firefox/115.0", []Target{{"linux", "arm64"}, {"linux", "arm"}}},
		{"Mozilla/5.0 (X11; Linux armv7l) Chromium/92.0", []Target{{"linux", "arm"}}},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120.0 Mobile", nil},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari/604.1", nil},
		{"curl/8.5.0", nil},
	}
	for _, tt := range tests {
		if got := ForUserAgent(tt.ua); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ForUserAgent(%q) = %v, want %v", tt.ua, got, tt.want)
		}
	}
}

func TestTargets(t *testing.T) {
	seen := map[string]bool{}
	for _, tt := range Targets {
		name := tt.FileName()
		if seen[name] {
			t.Errorf("two targets named %s", name)
		}
		seen[name] = true
		if got, ok := TargetOfFile(name); !ok || got != tt {
			t.Errorf("TargetOfFile(%q) = %v, %v", name, got, ok)
		}
		if got, err := ParseTarget(tt.String()); err != nil || got != tt {
			t.Errorf("ParseTarget(%q) = %v, %v", tt.String(), got, err)
		}
	}
	if _, err := ParseTarget("plan9/386"); err == nil {
		t.Error("plan9/386 accepted")
	}
}
