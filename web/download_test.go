package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestDownload(t *testing.T) {
	b := newTestBackend(t)
	content := bytes.Repeat([]byte("0123456789"), 1000)
	hash := b.addFile("notes.txt", content, 2)
	_, base := testServer(t, b, nil)
	c := newClient(t)

	t.Run("whole file", func(t *testing.T) {
		resp, body := get(t, c, base+"/dl/"+hash+"?name=Caf%C3%A9+%22menu%22.txt")
		if resp.StatusCode != 200 || body != string(content) {
			t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
		}
		for k, want := range map[string]string{
			"Content-Type":        "text/plain; charset=utf-8",
			"Content-Length":      fmt.Sprint(len(content)),
			"Content-Disposition": `attachment; filename="Caf_ _menu_.txt"; filename*=UTF-8''Caf%C3%A9%20_menu_.txt`,
			"Accept-Ranges":       "bytes",
			"ETag":                `"` + hash + `"`,
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})
	t.Run("range", func(t *testing.T) {
		resp, body := get(t, c, base+"/dl/"+hash+"?name=notes.txt", "Range", "bytes=100-199")
		if resp.StatusCode != http.StatusPartialContent {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if body != string(content[100:200]) {
			t.Errorf("range body %q", body)
		}
		if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes 100-199/%d", len(content)); got != want {
			t.Errorf("Content-Range %q, want %q", got, want)
		}
	})
	t.Run("resume with If-Range", func(t *testing.T) {
		get(t, c, base+"/?q=notes") // the page remembers the name
		resp, body := get(t, c, base+"/dl/"+hash, "Range", "bytes=9990-", "If-Range", `"`+hash+`"`)
		if resp.StatusCode != http.StatusPartialContent || body != string(content[9990:]) {
			t.Fatalf("status %d body %q", resp.StatusCode, body)
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''notes.txt") {
			t.Errorf("without a name parameter the recent search's name is not used: %q", cd)
		}
	})
	fetches := b.fetches.Load()
	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/dl/not-a-hash", http.StatusBadRequest},
		{"/dl/..%2F..%2Fetc%2Fpasswd", http.StatusBadRequest},
		{"/dl/" + strings.Repeat("ab", 32), http.StatusBadGateway},          // a hash nobody has
		{"/dl/" + hash + "/../../etc/passwd", http.StatusTemporaryRedirect}, // to the clean path: /etc/passwd, a 404
	} {
		resp, _ := get(t, c, base+tt.path)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.path, resp.StatusCode, tt.status)
		}
	}
	if n := b.fetches.Load() - fetches; n != 1 {
		t.Errorf("%d fetches for the bad paths, want 1 (the valid unknown hash)", n)
	}
}

func TestDownloadHostileName(t *testing.T) {
	b := newTestBackend(t)
	hash := b.addFile("x", []byte("data"), 1)
	_, base := testServer(t, b, nil)
	resp, _ := get(t, newClient(t), base+"/dl/"+hash+"?name=..%2F..%2F%3Cscript%3E%0d%0aSet-Cookie:%20a=b.html")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cd := resp.Header.Get("Content-Disposition")
	if want := `attachment; filename="_script_Set-Cookie_ a=b.html"; filename*=UTF-8''_script_Set-Cookie_%20a%3Db.html`; cd != want {
		t.Errorf("Content-Disposition %q, want %q", cd, want)
	}
	if resp.Header.Get("Set-Cookie") != "" {
		t.Error("header injection through the name")
	}
}

// Hashes no page search showed cost a network search each: rate limited.
func TestDownloadUnknownHashesLimited(t *testing.T) {
	b := newTestBackend(t)
	_, base := testServer(t, b, nil)
	c := newClient(t)
	limited := 0
	for i := range 20 {
		resp, _ := get(t, c, fmt.Sprintf("%s/dl/%064x", base, i))
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 || b.fetches.Load() > 10 {
		t.Fatalf("20 random hashes: %d limited, %d backend fetches", limited, b.fetches.Load())
	}
}
