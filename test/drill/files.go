//go:build linux

package drill

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/servent-p2p/servent/content"
)

// File is one generated share file.
type File struct {
	// Name is the base name: "<host>-<token>.bin".
	Name string
	// Token is a random word found in no other file name: searching for it
	// must find exactly this file.
	Token string
	// Path is where the file lies on disk.
	Path string
	// Size is its length in bytes.
	Size int64
	// Hash is its BLAKE3-256 in lower-case hex (as b3sum prints it).
	Hash string
}

// WriteFiles creates one file of each size in dir, named after host with
// a unique token, filled with pseudo-random bytes, and returns them with
// their hashes.
func WriteFiles(dir, host string, sizes ...int64) ([]File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	var out []File
	for _, size := range sizes {
		token := "t" + randHex(4)
		f := File{Name: fmt.Sprintf("%s-%s.bin", host, token), Token: token, Size: size}
		f.Path = filepath.Join(dir, f.Name)
		if err := writeRandom(f.Path, size, token); err != nil {
			return nil, err
		}
		h, err := HashFile(f.Path)
		if err != nil {
			return nil, err
		}
		f.Hash = h
		out = append(out, f)
	}
	return out, nil
}

func writeRandom(path string, size int64, seed string) error {
	var key [32]byte
	copy(key[:], seed)
	src := rand.NewChaCha8(key)
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("drill: %w", err)
	}
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := int64(len(buf))
		if left < n {
			n = left
		}
		for i := 0; i+8 <= len(buf); i += 8 {
			binary.LittleEndian.PutUint64(buf[i:], src.Uint64())
		}
		if _, err := fh.Write(buf[:n]); err != nil {
			fh.Close()
			return fmt.Errorf("drill: write %s: %w", path, err)
		}
		left -= n
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("drill: write %s: %w", path, err)
	}
	return nil
}

// CopyFile copies f into dir under the same name (the same content held by
// a second host) and returns the copy.
func CopyFile(f File, dir string) (File, error) {
	src, err := os.Open(f.Path)
	if err != nil {
		return File{}, fmt.Errorf("drill: %w", err)
	}
	defer src.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return File{}, fmt.Errorf("drill: %w", err)
	}
	c := f
	c.Path = filepath.Join(dir, f.Name)
	dst, err := os.Create(c.Path)
	if err != nil {
		return File{}, fmt.Errorf("drill: %w", err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return File{}, fmt.Errorf("drill: copy %s: %w", c.Path, err)
	}
	if err := dst.Close(); err != nil {
		return File{}, fmt.Errorf("drill: copy %s: %w", c.Path, err)
	}
	return c, nil
}

// HashFile returns the content hash of the file at path in lower-case hex.
func HashFile(path string) (string, error) {
	h, _, _, err := content.HashFile(path)
	if err != nil {
		return "", fmt.Errorf("drill: hash %s: %w", path, err)
	}
	return h.String(), nil
}

// normHash spells a content hash (hex or URN, any case) as lower-case hex;
// anything else is returned as it is.
func normHash(s string) string {
	if h, err := content.ParseHash(s); err == nil {
		return h.String()
	}
	return s
}

// sameHash reports whether two spellings name the same content hash.
func sameHash(a, b string) bool {
	ha, errA := content.ParseHash(a)
	hb, errB := content.ParseHash(b)
	return errA == nil && errB == nil && ha == hb
}

// VerifyFile checks that the file at path has the given hash and size.
func VerifyFile(path string, size int64, hash string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("drill: verify: %w", err)
	}
	if st.Size() != size {
		return fmt.Errorf("drill: verify %s: size %d, want %d", path, st.Size(), size)
	}
	got, err := HashFile(path)
	if err != nil {
		return err
	}
	if !sameHash(got, hash) {
		return fmt.Errorf("drill: verify %s: CORRUPT: blake3 %s, want %s", path, got, normHash(hash))
	}
	return nil
}

// PartialBytes returns the bytes actually written so far to the partial
// downloads ("*.part") in dir: their data regions, since a partial is
// created at its full size, its space reserved but unwritten, and filled
// chunk by chunk.
func PartialBytes(dir string) int64 {
	parts, _ := filepath.Glob(filepath.Join(dir, "*.part"))
	var n int64
	for _, p := range parts {
		n += dataBytes(p)
	}
	return n
}

// dataBytes sums the data regions of the file at path, skipping holes and
// reserved but unwritten space (SEEK_DATA / SEEK_HOLE).
func dataBytes(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	fd := int(f.Fd())
	var n, off int64
	for {
		start, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if err != nil { // ENXIO: no data after off
			return n
		}
		end, err := unix.Seek(fd, start, unix.SEEK_HOLE)
		if err != nil {
			return n
		}
		n, off = n+end-start, end
	}
}
