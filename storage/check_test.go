package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"lukechampine.com/blake3"

	"github.com/servent-p2p/servent/content"
)

func TestCheckAndOpenFile(t *testing.T) {
	base := t.TempDir()
	share := filepath.Join(base, "share")
	path := filepath.Join(share, "a.txt")
	writeFile(t, path, "hello")
	writeFile(t, filepath.Join(base, "evil.txt"), "evil")
	s := openTest(t, "")
	scan(t, s, []string{share}, ScanOptions{})
	f, err := s.FileByHash(content.Hash(blake3.Sum256([]byte("hello"))))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Check(f); !ok || err != nil {
		t.Fatalf("check of an unchanged file: %v %v", ok, err)
	}
	fh, err := s.OpenFile(f)
	if err != nil {
		t.Fatal(err)
	}
	fh.Close()

	writeFile(t, path, "hello, changed")
	if ok, err := s.Check(f); ok || err != nil {
		t.Fatalf("check of a changed file: %v %v", ok, err)
	}
	if _, err := s.OpenFile(f); err == nil {
		t.Fatal("opened a changed file")
	}
	os.Remove(path)
	if ok, err := s.Check(f); ok || err != nil {
		t.Fatalf("check of a removed file: %v %v", ok, err)
	}
	// Replaced by a symlink leading out of the share.
	if err := os.Symlink(filepath.Join(base, "evil.txt"), path); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Check(f); ok {
		t.Fatal("check followed a symlink out of the share")
	}
	if _, err := s.OpenFile(f); err == nil {
		t.Fatal("opened a file outside the share")
	}
}

// TestLookupServesVerifiableChunks follows the transfer plane: look a file
// up by hash, open it, and verify every chunk against the stored outboard.
func TestLookupServesVerifiableChunks(t *testing.T) {
	share := t.TempDir()
	data := make([]byte, 2*content.ChunkSize+777)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(filepath.Join(share, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, "")
	scan(t, s, []string{share}, ScanOptions{})
	h := content.Hash(blake3.Sum256(data))
	f, ob, err := s.Lookup(h)
	if err != nil {
		t.Fatal(err)
	}
	if !content.VerifyOutboard(h, ob, f.Size) {
		t.Fatal("stored outboard rejected")
	}
	fh, err := s.OpenFile(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	buf := make([]byte, content.ChunkSize)
	for i := range content.NumChunks(f.Size) {
		n, _ := fh.ReadAt(buf, int64(i)*content.ChunkSize)
		if !content.VerifyChunk(h, ob, i, buf[:n]) {
			t.Fatalf("chunk %d rejected", i)
		}
	}
	if _, _, err := s.Lookup(content.Hash{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
}
