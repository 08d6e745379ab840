package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestBrowseView: the peers, a peer's top folder (subfolders with counts,
// files of that folder only), a subfolder with its crumbs, hostile names
// shown escaped as text, a download link that needs no search, and the
// folder of a search result linking to its browse view.
func TestBrowseView(t *testing.T) {
	b := newTestBackend(t)
	b.addFile("maps/tiles/a.png", []byte("tile a"), 1)
	b.addFile("maps/tiles/b.png", []byte("tile b"), 1)
	hash := b.addFile("maps/city map.pdf", []byte("city"), 1)
	b.addFile("maps/\x1b[31m<b>red<i>.txt", []byte("red"), 1)
	b.addFile("readme.txt", []byte("readme"), 1)
	_, base := testServer(t, b, nil)
	c := newClient(t)

	resp, body := get(t, c, base+"/browse")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/browse?peer=nodea"`) {
		t.Fatalf("peers: %s\n%s", resp.Status, body)
	}
	resp, body = get(t, c, base+"/browse?peer=nodea")
	for _, want := range []string{`href="/browse?dir=maps&amp;peer=nodea">maps/</a>`, "4 files", "readme.txt"} {
		if !strings.Contains(body, want) {
			t.Errorf("top of nodea lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "a.png") {
		t.Error("the top folder shows a deeper file")
	}
	resp, body = get(t, c, base+"/browse?peer=nodea&dir=maps/")
	for _, want := range []string{">tiles/</a>", "2 files", "city map.pdf", `\x1b[31m&lt;b&gt;red&lt;i&gt;.txt`, `/dl/` + hash, `>maps</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("maps of nodea lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "\x1b") || strings.Contains(body, "<b>red") {
		t.Error("a hostile name reached the page raw")
	}
	before := b.searches.Load()
	resp, _ = get(t, c, base+"/dl/"+hash+"?name=city+map.pdf")
	if resp.StatusCode != http.StatusOK || b.searches.Load() != before {
		t.Errorf("download from the browse view: %s, %d searches", resp.Status, b.searches.Load()-before)
	}
	for i := range maxBrowseFiles + 3 {
		b.addFile(fmt.Sprintf("big/f%04d.txt", i), []byte{byte(i), byte(i >> 8)}, 1)
	}
	if _, body = get(t, c, base+"/browse?peer=nodea&dir=big"); strings.Count(body, `class="dl"`) != maxBrowseFiles || !strings.Contains(body, "and 3 more files") {
		t.Errorf("a big folder shows %d files", strings.Count(body, `class="dl"`))
	}
	resp, body = get(t, c, base+"/browse?peer=nobody")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "Could not list") {
		t.Errorf("unknown peer: %s", resp.Status)
	}
	_, body = get(t, c, base+"/?q=city")
	if !strings.Contains(body, `in <a href="/browse?dir=maps&amp;peer=nodea">maps</a>`) {
		t.Errorf("search result without its folder:\n%s", body)
	}
}
