package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/servent-p2p/servent/content"
)

func testFile(root, path string, seed byte) (File, []byte) {
	data := bytes.Repeat([]byte{seed}, int(seed)*1000)
	h, ob, _ := content.HashReader(bytes.NewReader(data), int64(len(data)))
	return File{Root: root, Path: path, Size: int64(len(data)), ModTime: int64(seed) * 1e9, Hash: h}, ob
}

func put(t *testing.T, s *Store, files ...File) {
	t.Helper()
	var cs []change
	for _, f := range files {
		cs = append(cs, change{file: f, outboard: []byte(f.Hash.String())})
	}
	if _, err := s.applyChanges(cs); err != nil {
		t.Fatal(err)
	}
}

func del(t *testing.T, s *Store, root, path string) {
	t.Helper()
	if _, err := s.applyChanges([]change{{file: File{Root: root, Path: path}, del: true}}); err != nil {
		t.Fatal(err)
	}
}

func TestFileValueRoundTrip(t *testing.T) {
	for _, f := range []File{
		{},
		{Size: 1 << 40, ModTime: -5, Hash: content.Hash{1, 2, 3}},
		{Size: 7, ModTime: 1700000000123456789, Hash: content.Hash{31: 0xff}},
	} {
		var got File
		if err := decodeFileValue(encodeFileValue(f), &got); err != nil {
			t.Fatal(err)
		}
		if got.Size != f.Size || got.ModTime != f.ModTime || got.Hash != f.Hash {
			t.Fatalf("round trip %+v -> %+v", f, got)
		}
	}
}

func FuzzDecodeFileValue(f *testing.F) {
	f.Add(encodeFileValue(File{Size: 12, ModTime: 34, Hash: content.Hash{5}}))
	f.Add([]byte{})
	f.Add([]byte{formatV1, 0xff})
	f.Add([]byte{2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got File
		if err := decodeFileValue(b, &got); err != nil {
			return
		}
		var again File
		if err := decodeFileValue(encodeFileValue(got), &again); err != nil ||
			again.Size != got.Size || again.ModTime != got.ModTime || again.Hash != got.Hash {
			t.Fatalf("re-encode of %+v gave %+v, %v", got, again, err)
		}
	})
}

func TestCatalogPutReplaceDelete(t *testing.T) {
	s := openTest(t, "")
	a, _ := testFile("/share", "a.txt", 1)
	obA := []byte(a.Hash.String())
	b, _ := testFile("/share", "dir/b.txt", 2)
	c, _ := testFile("/other", "c.txt", 1) // same content as a
	put(t, s, a, b, c)
	if s.Count() != 3 {
		t.Fatalf("count %d, want 3", s.Count())
	}
	v1 := s.Version()
	if v1 == 0 {
		t.Fatal("version not bumped")
	}

	files, err := s.Files()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Root+"|"+f.Path)
	}
	if want := []string{"/other|c.txt", "/share|a.txt", "/share|dir/b.txt"}; !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	if !slices.Equal(files[2].Keywords, []string{"dir", "b", "txt"}) {
		t.Fatalf("keywords %v", files[2].Keywords)
	}

	got, ob, err := s.Lookup(a.Hash)
	if err != nil || got.Hash != a.Hash || !bytes.Equal(ob, obA) {
		t.Fatalf("lookup: %+v %v", got, err)
	}

	// Deleting one of two files with the same hash keeps the outboard.
	del(t, s, "/other", "c.txt")
	if _, err := s.Outboard(a.Hash); err != nil {
		t.Fatalf("outboard dropped while still used: %v", err)
	}
	if f, err := s.FileByHash(a.Hash); err != nil || f.Path != "a.txt" {
		t.Fatalf("file by hash: %+v %v", f, err)
	}
	// Replacing a's content drops the old hash and its outboard.
	a2, _ := testFile("/share", "a.txt", 3)
	put(t, s, a2)
	if _, err := s.FileByHash(a.Hash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old hash still indexed: %v", err)
	}
	if _, err := s.Outboard(a.Hash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old outboard kept: %v", err)
	}
	if _, _, err := s.Lookup(a2.Hash); err != nil {
		t.Fatal(err)
	}
	if s.Count() != 2 || s.Version() <= v1 {
		t.Fatalf("count %d version %d after replace", s.Count(), s.Version())
	}
	v2 := s.Version()
	del(t, s, "/share", "missing") // deleting an absent file is harmless
	if s.Count() != 2 || s.Version() != v2 {
		t.Fatalf("count %d after no-op delete", s.Count())
	}
}

func TestCatalogPersists(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := testFile("/share", "a", 4)
	put(t, s, a)
	version := s.Version()
	s.Close()

	s = openTest(t, dir)
	if s.Version() != version || s.Count() != 1 {
		t.Fatalf("after reopen: version %d count %d, want %d 1", s.Version(), s.Count(), version)
	}
}

func TestApplyChangesLargeBatch(t *testing.T) {
	s := openTest(t, "")
	var files []File
	for i := range 3 * maxChangesPerTxn {
		files = append(files, File{Root: "/r", Path: fmt.Sprintf("f%05d", i), Size: int64(i), Hash: content.Hash{byte(i), byte(i >> 8)}})
	}
	put(t, s, files...)
	if s.Count() != len(files) {
		t.Fatalf("count %d, want %d", s.Count(), len(files))
	}
}
