package kit

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/servent-p2p/servent/content"
)

// Checksum file names in a kit folder, in the format sha256sum and b3sum
// print and check (-c): "HEX  NAME" per line, sorted by name.
const (
	SHA256File = "SHA256SUMS"
	B3File     = "B3SUMS"
)

// Binary is one servent binary of a kit with its checksums.
type Binary struct {
	Target Target
	Name   string // file name in the kit folder
	Size   int64
	SHA256 string // hex: what sha256sum, shasum -a 256 and certutil print
	BLAKE3 string // hex: the content hash servent addresses the file by
}

// Sum hashes the file at path both ways.
func Sum(path string) (sha string, b3 content.Hash, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", content.Hash{}, 0, err
	}
	defer f.Close()
	h := sha256.New()
	size, err = io.Copy(h, f)
	if err != nil {
		return "", content.Hash{}, 0, fmt.Errorf("%s: %w", path, err)
	}
	b3, _, _, err = content.HashFile(path)
	if err != nil {
		return "", content.Hash{}, 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), b3, size, nil
}

// writeSums writes SHA256SUMS and B3SUMS for bins (sorted by name) in dir.
func writeSums(dir string, bins []Binary) error {
	var sha, b3 strings.Builder
	for _, b := range bins {
		fmt.Fprintf(&sha, "%s  %s\n", b.SHA256, b.Name)
		fmt.Fprintf(&b3, "%s  %s\n", b.BLAKE3, b.Name)
	}
	if err := os.WriteFile(filepath.Join(dir, SHA256File), []byte(sha.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, B3File), []byte(b3.String()), 0o644)
}

// readSums reads a checksum file into name → hex. A missing file is an
// empty map.
func readSums(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			return nil, fmt.Errorf("%s:%d: want \"HEX  NAME\"", path, n)
		}
		sums[name] = sum
	}
	return sums, sc.Err()
}
