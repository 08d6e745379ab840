package browse

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/servent-p2p/servent/content"
)

func testEntries() []Entry {
	return []Entry{
		{Path: "maps/tiles/a.png", Size: 12, Hash: content.Hash{1}},
		{Path: "maps/Zürich.pdf", Size: 1 << 40, Hash: content.Hash{2}},
		{Path: "readme.txt", Size: 0, Hash: content.Hash{3}},
	}
}

func TestListingRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteListing(&buf, testEntries()); err != nil {
		t.Fatal(err)
	}
	got, err := ReadListing(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1] != testEntries()[1] {
		t.Fatalf("got %+v", got)
	}
	buf.Reset()
	WriteRefusal(&buf, "no such folder")
	if _, err := ReadListing(&buf); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "no such folder") {
		t.Fatalf("refusal read as %v", err)
	}
}

func TestRequestRoundTrip(t *testing.T) {
	for _, f := range []string{"", "maps/tiles", "日本"} {
		var buf bytes.Buffer
		if err := WriteRequest(&buf, Request{Folder: f}); err != nil {
			t.Fatal(err)
		}
		got, err := ReadRequest(&buf)
		if err != nil || got.Folder != f {
			t.Fatalf("%q read back as %q, %v", f, got.Folder, err)
		}
	}
	if err := WriteRequest(&bytes.Buffer{}, Request{Folder: "a\x00b"}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("NUL folder: %v", err)
	}
}

func TestDecodersRefuseHostileInput(t *testing.T) {
	var ok bytes.Buffer
	WriteListing(&ok, testEntries())
	tests := map[string][]byte{
		"empty":         nil,
		"wrong tag":     {'X', Version, 0, 0},
		"future":        {tagListing, Version + 1, 0, 0},
		"bad status":    {tagListing, Version, 9},
		"huge count":    {tagListing, Version, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge path":     {tagListing, Version, 0, 1, 0xff, 0xff, 0x03},
		"cut short":     ok.Bytes()[:ok.Len()-5],
		"empty path":    {tagListing, Version, 0, 1, 0, 0},
		"long reason":   {tagListing, Version, 1, 0xff, 0x0f},
		"bad utf8 path": append([]byte{tagListing, Version, 0, 1, 2, 0xff, 0xfe, 1}, make([]byte, 32)...),
	}
	for name, b := range tests {
		if _, err := ReadListing(bytes.NewReader(b)); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestListingCap(t *testing.T) {
	// A peer streaming an endless listing is cut at MaxListingBytes.
	long := strings.Repeat("x", MaxPathLen)
	var buf bytes.Buffer
	buf.Write([]byte{tagListing, Version, 0, 0x80, 0x80, 0x20}) // 1<<19 entries
	for buf.Len() < MaxListingBytes+MaxPathLen*2 {
		buf.Write([]byte{0x80, 0x20})
		buf.WriteString(long)
		buf.Write(append([]byte{1}, make([]byte, 32)...))
	}
	if _, err := ReadListing(&buf); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("endless listing: %v", err)
	}
}

func TestUnder(t *testing.T) {
	list := testEntries()
	if got := Under(list, "maps/"); len(got) != 2 {
		t.Errorf("maps/: %+v", got)
	}
	if got := Under(list, "/maps/tiles"); len(got) != 1 || got[0].Path != "maps/tiles/a.png" {
		t.Errorf("/maps/tiles: %+v", got)
	}
	if got := Under(list, "map"); len(got) != 0 {
		t.Errorf("map (a prefix, not a folder): %+v", got)
	}
	if got := Under(list, "."); len(got) != 3 {
		t.Errorf(".: %+v", got)
	}
	for in, want := range map[string]string{"a/b/c.txt": "a/b", "c.txt": ""} {
		if got := FolderOf(in); got != want {
			t.Errorf("FolderOf(%q) = %q", in, got)
		}
	}
}

func FuzzReadListing(f *testing.F) {
	var buf bytes.Buffer
	WriteListing(&buf, testEntries())
	f.Add(buf.Bytes())
	buf.Reset()
	WriteRefusal(&buf, "no")
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := ReadListing(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteListing(&out, files); err != nil {
			t.Fatalf("a decoded listing does not encode: %v", err)
		}
		again, err := ReadListing(&out)
		if err != nil || len(again) != len(files) {
			t.Fatalf("round trip: %d files, %v", len(again), err)
		}
		for i := range files {
			if again[i] != files[i] {
				t.Fatalf("file %d: %+v != %+v", i, again[i], files[i])
			}
		}
	})
}

func FuzzReadRequest(f *testing.F) {
	var buf bytes.Buffer
	WriteRequest(&buf, Request{Folder: "maps/tiles"})
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadRequest(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteRequest(&out, r); err != nil {
			t.Fatalf("a decoded request does not encode: %v", err)
		}
	})
}
