package kit

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/servent-p2p/servent/internal/safefile"
)

// Own is the target of the running binary.
func Own() Target { return Target{runtime.GOOS, runtime.GOARCH} }

// PlaceSelf makes sure dir offers a servent for exe's platform own: unless
// a kit already has one (the folders in have, or dir itself when its
// SHA256SUMS lists that binary), exe is hard-linked (or, across file
// systems, copied) into dir, replacing an older placed copy. It returns the
// path placed, or "" when a kit already had one.
func PlaceSelf(dir, exe string, own Target, have ...string) (string, error) {
	name := own.FileName()
	for _, h := range have {
		if h == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(h, name)); err == nil {
			return "", nil
		}
	}
	if sums, err := readSums(filepath.Join(dir, SHA256File)); err != nil {
		return "", fmt.Errorf("kit: %w", err)
	} else if _, ok := sums[name]; ok {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("kit: %w", err)
	}
	dst := filepath.Join(dir, name)
	if a, err := os.Stat(exe); err != nil {
		return "", fmt.Errorf("kit: own binary: %w", err)
	} else if b, err := os.Stat(dst); err == nil && (os.SameFile(a, b) || a.Size() == b.Size() && sameContent(exe, dst)) {
		return dst, nil // kept as it is: no rescan of an unchanged copy
	}
	tmp := dst + ".tmp"
	os.Remove(tmp)
	if err := os.Link(exe, tmp); err != nil {
		if err := safefile.CopyNew(exe, tmp, 0o755); err != nil {
			os.Remove(tmp)
			return "", fmt.Errorf("kit: own binary: %w", err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("kit: own binary: %w", err)
	}
	return dst, nil
}

// sameContent reports whether the files at a and b hold the same bytes.
func sameContent(a, b string) bool {
	fa, err := os.Open(a)
	if err != nil {
		return false
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false
		}
		if ea != nil || eb != nil { // both at their end, or a read error
			end := func(e error) bool { return e == io.EOF || e == io.ErrUnexpectedEOF }
			return end(ea) && end(eb)
		}
	}
}
