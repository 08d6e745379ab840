package web

import (
	"archive/zip"
	"bytes"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// zipFiles reads a .zip body and returns its files by name, checking
// that every entry is stored, carries its sizes and CRC in the local
// header (no data descriptor) and has a relative, clean path.
func zipFiles(t *testing.T, body string) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		if f.Method != zip.Store || f.Flags&0x8 != 0 {
			t.Errorf("%s: method %d, flags %#x", f.Name, f.Method, f.Flags)
		}
		if strings.HasPrefix(f.Name, "/") || slices.Contains(strings.Split(f.Name, "/"), "..") || strings.ContainsAny(f.Name, "\\\x1b") {
			t.Errorf("unsafe entry %q", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc) // checks the CRC-32 too
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = string(b)
	}
	return out
}

// TestZipFolder: the browse view links its folder as one .zip, which
// holds every file below it (subfolders too, nothing outside) under the
// folder's name, with names made safe as a folder download makes them;
// a colliding name is left out; the top of a peer zips as its name.
func TestZipFolder(t *testing.T) {
	b := newTestBackend(t)
	want := map[string]string{
		"maps/city map.pdf":      "city",
		"maps/tiles/a.png":       "tile a",
		"maps/tiles/b.png":       "tile b",
		"maps/empty.txt":         "",
		"maps/[31m_b_red_i_.txt": "red",
		"maps/_con/notes.txt":    "notes",
	}
	listed := map[string]string{
		"maps/city map.pdf":          "city",
		"maps/tiles/a.png":           "tile a",
		"maps/tiles/b.png":           "tile b",
		"maps/empty.txt":             "",
		"maps/\x1b[31m<b>red<i>.txt": "red",
		"maps/con/notes.txt":         "notes",
		"maps/TILES/A.png":           "clash", // takes the name of tiles/a.png
		"readme.txt":                 "outside",
	}
	for name, data := range listed {
		b.addFile(name, []byte(data), 1)
	}
	_, base := testServer(t, b, nil)
	c := newClient(t)

	_, body := get(t, c, base+"/browse?peer=nodea&dir=maps")
	if !strings.Contains(body, `<a class="zip" href="/zip?dir=maps&amp;peer=nodea" download>Download this folder (.zip)</a>`) {
		t.Fatalf("the folder has no zip link:\n%s", body)
	}
	resp, body := get(t, c, base+"/zip?dir=maps&peer=nodea")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="maps.zip"`) {
		t.Fatalf("zip: %s %v", resp.Status, resp.Header)
	}
	got := zipFiles(t, body)
	// The listing's order decides which of the clashing names is kept.
	if got["maps/TILES/A.png"] == "clash" {
		delete(got, "maps/TILES/A.png")
		got["maps/tiles/a.png"] = "tile a"
	}
	if len(got) != len(want) {
		t.Errorf("zip holds %q", slices.Sorted(maps.Keys(got)))
	}
	for name, data := range want {
		if g, ok := got[name]; !ok || g != data {
			t.Errorf("%s: %q, %v; want %q", name, g, ok, data)
		}
	}

	_, body = get(t, c, base+"/zip?peer=nodea")
	if got := zipFiles(t, body); got["nodea/readme.txt"] != "outside" || len(got) != len(want)+1 {
		t.Errorf("the top of nodea zips as %q", slices.Sorted(maps.Keys(got)))
	}
	if resp, _ := get(t, c, base+"/zip?dir=maps"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a zip of no peer: %s", resp.Status)
	}
}

// TestZipLimits: a folder over the file or byte limit shows the reason
// and the command for a computer instead of the link, and its zip URL is
// refused before anything is fetched.
func TestZipLimits(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"files", func(c *Config) { c.ZipMaxFiles = 2 }, "This folder has 3 files (15 B), more than this page puts in one .zip (2 files, 1.0 GiB)"},
		{"bytes", func(c *Config) { c.ZipMaxBytes = 14 }, "This folder has 3 files (15 B), more than this page puts in one .zip (1000 files, 14 B)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBackend(t)
			for _, n := range []string{"a", "b", "c"} {
				b.addFile("maps/"+n+".txt", []byte("file"+n), 1)
			}
			_, base := testServer(t, b, c.mod)
			cl := newClient(t)
			_, body := get(t, cl, base+"/browse?peer=nodea&dir=maps")
			if !strings.Contains(body, c.want) || !strings.Contains(body, "servent get nodea:maps") || strings.Contains(body, `class="zip"`) {
				t.Errorf("page over the limit:\n%s", body)
			}
			resp, body := get(t, cl, base+"/zip?peer=nodea&dir=maps")
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, c.want) || b.fetches.Load() != 0 {
				t.Errorf("zip over the limit: %s, %d fetches", resp.Status, b.fetches.Load())
			}
		})
	}
}

// TestZipAdmission: behind a passphrase a zip needs the session (nothing
// is listed or fetched without); a zip costs the device's browse budget.
func TestZipAdmission(t *testing.T) {
	b := newTestBackend(t)
	b.addFile("maps/a.txt", []byte("a"), 1)
	_, base := testServer(t, b, func(c *Config) { c.Passphrase = "drill 2026" })
	c := newClient(t)
	resp, _ := get(t, c, base+"/zip?peer=nodea&dir=maps")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" || b.fetches.Load() != 0 {
		t.Fatalf("zip without a session: %s to %q, %d fetches", resp.Status, resp.Header.Get("Location"), b.fetches.Load())
	}
	_, page := get(t, c, base+"/login")
	resp, _ = postForm(t, c, base+"/login", base, url.Values{"passphrase": {"drill 2026"}, csrfField: {csrfFrom(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %s", resp.Status)
	}
	for i := range 6 {
		if resp, body := get(t, c, base+"/zip?peer=nodea&dir=maps"); resp.StatusCode != http.StatusOK || zipFiles(t, body)["maps/a.txt"] != "a" {
			t.Fatalf("zip %d: %s", i, resp.Status)
		}
	}
	if resp, body := get(t, c, base+"/zip?peer=nodea&dir=maps"); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many requests") {
		t.Errorf("7th zip at once: %s", resp.Status)
	}
}

// TestZipFailure: a file that cannot be fetched, or whose bytes do not
// hash to its listed hash, aborts the connection after the first bytes
// (the browser sees a failed download, never a complete .zip) and is
// logged; when the first file fails the page says so instead.
func TestZipFailure(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(b *testBackend, h string)
	}{
		{"source gone", func(b *testBackend, h string) { b.dead = map[string]bool{h: true} }},
		{"hash mismatch", func(b *testBackend, h string) { os.WriteFile(b.files[h].path, []byte("XXXXX"), 0o644) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBackend(t)
			first := b.addFile("maps/1.txt", bytes.Repeat([]byte("one "), 50_000), 1)
			second := b.addFile("maps/2.txt", []byte("two 2"), 1)
			b.addFile("maps/3.txt", []byte("three"), 1)
			b.mu.Lock()
			c.spoil(b, second)
			b.mu.Unlock()
			var logs servent // a log sink safe for concurrent writers
			_, base := testServer(t, b, func(c *Config) {
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			resp, err := newClient(t).Get(base + "/zip?peer=nodea&dir=maps")
			if err != nil {
				t.Fatalf("%v\n%s", err, logs.output())
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || err == nil {
				t.Fatalf("a failing second file: %s, read %d bytes, %v", resp.Status, len(body), err)
			}
			if _, err := zip.NewReader(bytes.NewReader(body), int64(len(body))); err == nil {
				t.Error("the cut archive reads as a zip")
			}
			if !strings.Contains(logs.output(), "web zip aborted") || !strings.Contains(logs.output(), "maps/2.txt") {
				t.Errorf("log:\n%s", logs.output())
			}

			b.mu.Lock()
			c.spoil(b, first)
			b.mu.Unlock()
			resp, page := get(t, newClient(t), base+"/zip?peer=nodea&dir=maps")
			if resp.StatusCode != http.StatusBadGateway || !strings.Contains(page, "The folder could not be fetched from the network: maps/1.txt") {
				t.Errorf("a failing first file: %s\n%s", resp.Status, page)
			}
		})
	}
}

// TestZipSlots: while maxZips .zips stream, another is turned away with a
// clear message before it lists anything; the others complete.
func TestZipSlots(t *testing.T) {
	b := newTestBackend(t)
	b.addFile("maps/a.txt", []byte("a"), 1)
	b.gate = make(chan struct{})
	s, base := testServer(t, b, nil)
	done := make(chan int, maxZips)
	for range maxZips {
		go func() {
			resp, err := newClient(t).Get(base + "/zip?peer=nodea&dir=maps")
			if err != nil {
				done <- 0
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			done <- resp.StatusCode
		}()
	}
	eventually(t, 5*time.Second, "the zips to hold their slots", func() bool { return len(s.zipSlots) == maxZips })
	resp, body := get(t, newClient(t), base+"/zip?peer=nodea&dir=maps")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "busy sending other folders") {
		t.Errorf("a zip beyond the slots: %s", resp.Status)
	}
	close(b.gate)
	for range maxZips {
		if code := <-done; code != http.StatusOK {
			t.Errorf("a zip in a slot: %d", code)
		}
	}
}
