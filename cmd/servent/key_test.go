package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosmos/go-bip39"
)

func TestKeyNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drill.key")
	stdout, stderr, code := servent(t, "key", "new", "--out", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	words := strings.TrimSpace(string(b))
	if n := len(strings.Fields(words)); n != 12 || !bip39.IsMnemonicValid(words) {
		t.Fatalf("key file holds %q (%d words), want 12 valid words", words, n)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if !strings.Contains(stdout, words) || !strings.Contains(stdout, "--key-file "+path) {
		t.Errorf("output does not show the key and how to use it:\n%s", stdout)
	}
	_, stderr, code = servent(t, "key", "new", "--out", path)
	if code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("second key into the same file: exit %d, %q; want 1 and a refusal", code, stderr)
	}
	if again, _ := os.ReadFile(path); string(again) != string(b) {
		t.Error("an existing key file was overwritten")
	}
	other, _, _ := servent(t, "key", "new")
	if strings.Contains(other, words) {
		t.Error("two generated keys are the same")
	}
}
