//go:build linux

package drill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/servent-p2p/servent/api"
)

func TestDecodeSearchLine(t *testing.T) {
	cases := []struct {
		name     string
		line     string
		wantHash string
		wantDone bool
		wantErr  bool
	}{
		{"bare result", `{"name":"a.bin","size":3,"hash":"ab","sources":[{"name":"h01","addr":"10.77.0.2:6346"}]}`, "ab", false, false},
		{"event result", `{"result":{"name":"a.bin","size":3,"hash":"cd","sources":[]}}`, "cd", false, false},
		{"event done", `{"done":{"results":1,"hits":2,"elapsed_ns":5}}`, "", true, false},
		{"event error", `{"error":"no ultrapeer"}`, "", false, true},
		{"not json", `found 3 files`, "", false, true},
		{"wrong type", `{"result":{"size":"big"}}`, "", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, done, err := decodeSearchLine([]byte(tc.line))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if got := r != nil && r.Hash == tc.wantHash; tc.wantHash != "" && !got {
				t.Errorf("result %+v, want hash %s", r, tc.wantHash)
			}
			if (done != nil) != tc.wantDone {
				t.Errorf("done %+v, want %v", done, tc.wantDone)
			}
		})
	}
}

func TestDecodeGetLine(t *testing.T) {
	cases := []struct {
		name         string
		line         string
		wantProgress int64
		wantPath     string
		wantErr      bool
	}{
		{"bare done", `{"path":"/o/a.bin","size":3,"hash":"ab","seconds":0.1,"sources":{"h01":3}}`, 0, "/o/a.bin", false},
		{"event done", `{"done":{"path":"/o/b.bin","size":3,"hash":"ab","seconds":0.1,"sources":{}}}`, 0, "/o/b.bin", false},
		{"event progress", `{"progress":{"bytes":1048576,"total":4194304,"sources":2}}`, 1 << 20, "", false},
		{"event error", `{"error":"no source"}`, 0, "", true},
		{"garbage", `saved /o/a.bin`, 0, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, d, err := decodeGetLine([]byte(tc.line))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if tc.wantProgress != 0 && (p == nil || p.Bytes != tc.wantProgress) {
				t.Errorf("progress %+v, want %d bytes", p, tc.wantProgress)
			}
			if tc.wantPath != "" && (d == nil || d.Path != tc.wantPath) {
				t.Errorf("done %+v, want path %s", d, tc.wantPath)
			}
		})
	}
}

func FuzzDecodeSearchLine(f *testing.F) {
	for _, s := range []string{`{"name":"a","hash":"ab"}`, `{"result":{}}`, `{"done":{}}`, `{"error":"x"}`, `[]`, `null`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, done, err := decodeSearchLine(line)
		if err != nil && (r != nil || done != nil) {
			t.Fatalf("error %v with a value", err)
		}
	})
}

func FuzzDecodeGetLine(f *testing.F) {
	for _, s := range []string{`{"path":"/a","size":1}`, `{"progress":{"bytes":1}}`, `{"done":{}}`, `{"error":"x"}`, `7`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		p, d, err := decodeGetLine(line)
		if err != nil && (p != nil || d != nil) {
			t.Fatalf("error %v with a value", err)
		}
	})
}

func TestSameHash(t *testing.T) {
	h1, h2 := strings.Repeat("ab", 32), strings.Repeat("ac", 32)
	cases := []struct {
		a, b string
		want bool
	}{
		{strings.ToUpper(h1), h1, true},
		{"urn:blake3:" + h1, h1, true},
		{" " + h1 + "\n", "urn:blake3:" + strings.ToUpper(h1), true},
		{h1, h2, false},
		{h1[:60], h1[:60], false}, // not a whole hash
		{"", "", false},
	}
	for _, tc := range cases {
		if got := sameHash(tc.a, tc.b); got != tc.want {
			t.Errorf("sameHash(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestWantUltrapeers(t *testing.T) {
	cases := []struct{ members, lo, hi int }{
		{1, 1, 2}, {4, 1, 2}, {5, 2, 3}, {6, 2, 3}, {8, 2, 3}, {12, 3, 4}, {13, 4, 5},
	}
	for _, tc := range cases {
		if lo, hi := wantUltrapeers(tc.members); lo != tc.lo || hi != tc.hi {
			t.Errorf("wantUltrapeers(%d) = %d..%d, want %d..%d", tc.members, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestFilesAndCatalog(t *testing.T) {
	dir := t.TempDir()
	fs, err := WriteFiles(filepath.Join(dir, "share"), "h07", 0, 1, 1<<20+5)
	if err != nil {
		t.Fatal(err)
	}
	// BLAKE3 of the empty input, as b3sum prints it.
	if fs[0].Hash != "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262" {
		t.Errorf("empty file hash %s", fs[0].Hash)
	}
	if fs[1].Token == fs[2].Token || fs[1].Hash == fs[2].Hash {
		t.Errorf("files not unique: %+v", fs)
	}
	for _, f := range fs {
		if err := VerifyFile(f.Path, f.Size, "urn:blake3:"+f.Hash); err != nil {
			t.Error(err)
		}
	}
	c, err := CopyFile(fs[2], filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyFile(c.Path, fs[2].Size, fs[2].Hash); err != nil {
		t.Error(err)
	}
	if err := os.WriteFile(c.Path, make([]byte, fs[2].Size), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := VerifyFile(c.Path, fs[2].Size, fs[2].Hash); err == nil {
		t.Error("VerifyFile accepted a corrupt copy")
	}

	now := time.Unix(1700000000, 0)
	shares := []api.Share{
		{Path: fs[0].Name, Size: fs[0].Size, Hash: fs[0].Hash, ModTime: now},
		{Path: "sub/" + fs[1].Name, Size: fs[1].Size, Hash: "urn:blake3:" + fs[1].Hash, ModTime: now},
		{Path: fs[2].Name, Size: fs[2].Size, Hash: fs[2].Hash, ModTime: now},
	}
	if err := missingShares(fs, shares); err != nil {
		t.Errorf("complete catalog: %v", err)
	}
	if err := missingShares(fs, shares[:2]); err == nil {
		t.Error("missing file not reported")
	}
	bad := append([]api.Share{}, shares...)
	bad[2].Hash = fs[1].Hash
	if err := missingShares(fs, bad); err == nil {
		t.Error("wrong hash not reported")
	}
	reordered := []api.Share{shares[2], shares[0], shares[1]}
	if !sameCatalog(shares, reordered) {
		t.Error("same catalog in another order reported different")
	}
	moved := append([]api.Share{}, shares...)
	moved[0].ModTime = now.Add(time.Second)
	if sameCatalog(shares, moved) {
		t.Error("changed mtime not noticed")
	}
}

func TestPartialBytes(t *testing.T) {
	dir := t.TempDir()
	if n := PartialBytes(dir); n != 0 {
		t.Fatalf("empty dir: %d", n)
	}
	fh, err := os.Create(filepath.Join(dir, "a.bin.0123456789ab.part"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if err := fh.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	}
	if n := PartialBytes(dir); n >= 1<<20 {
		t.Errorf("sparse 64 MiB partial counted as %d bytes written", n)
	}
	if _, err := fh.WriteAt(make([]byte, 4<<20), 8<<20); err != nil {
		t.Fatal(err)
	}
	if n := PartialBytes(dir); n < 4<<20 || n > 5<<20 {
		t.Errorf("4 MiB written counted as %d", n)
	}
	// Space reserved as the downloader does is not data.
	if err := unix.Fallocate(int(fh.Fd()), 0, 0, 64<<20); err != nil {
		t.Skipf("fallocate: %v", err)
	}
	if n := PartialBytes(dir); n < 4<<20 || n > 5<<20 {
		t.Errorf("4 MiB written in a reserved 64 MiB partial counted as %d", n)
	}
}
