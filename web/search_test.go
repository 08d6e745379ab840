package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSearchPage(t *testing.T) {
	b := newTestBackend(t)
	mapHash := b.addFile("city map 2026.pdf", []byte("a map"), 3)
	b.addFile("water points.csv", []byte("lat,lon"), 1)
	b.addPartialFile("shelter list.txt", []byte("school, hall"), 3, 2)
	_, base := testServer(t, b, nil)
	c := newClient(t)

	tests := []struct {
		name   string
		query  string
		status int
		want   []string
		absent []string
	}{
		{"home", "", 200, []string{"Open network", `name="q"`}, []string{"files found"}},
		{"one file", "map", 200, []string{"1 file found", "city map 2026.pdf", "3 sources", "/dl/" + mapHash + "?name=city&#43;map&#43;2026.pdf", "5 B"}, []string{"water points"}},
		{"partial sources", "shelter", 200, []string{"shelter list.txt", "3 sources (2 still downloading it)"}, nil},
		{"no partial source", "water", 200, []string{"1 source"}, []string{"still downloading"}},
		{"by hash", "urn:blake3:" + mapHash, 200, []string{"city map 2026.pdf"}, nil},
		{"nothing", "zebra", 200, []string{"No file found"}, nil},
		{"no words", "!!! ???", 400, []string{"at least one word"}, nil},
		{"too long", strings.Repeat("a", maxQueryLen+1), 400, []string{"too long"}, []string{strings.Repeat("a", maxQueryLen+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, c, base+"/?q="+url.QueryEscape(tt.query))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d:\n%s", resp.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(body, a) {
					t.Errorf("page has %q", a)
				}
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP %q", csp)
			}
		})
	}
}

// Names come from other people's disks: they must render as text.
func TestHostileNamesRenderAsText(t *testing.T) {
	b := newTestBackend(t)
	b.addFile("<script>alert(1)</script> evil.txt", []byte("x"), 1)
	b.addFile(`"quotes' & <b>bold evil.txt`, []byte("y"), 2)
	_, base := testServer(t, b, nil)
	resp, body := get(t, newClient(t), base+"/?q=evil")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt; evil.txt",
		"&#34;quotes&#39; &amp; &lt;b&gt;bold evil.txt",
		"name=%3Cscript%3Ealert%281%29%3C%2Fscript%3E",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks escaped %q", want)
		}
	}
	for _, bad := range []string{"<script>alert", "<b>bold", `"quotes'`} {
		if strings.Contains(body, bad) {
			t.Errorf("page has raw %q", bad)
		}
	}
	if n := strings.Count(body, "<script"); n != 1 {
		t.Errorf("%d script elements, want only the page's own", n)
	}
}

func TestSearchRateLimit(t *testing.T) {
	b := newTestBackend(t)
	_, base := testServer(t, b, nil)
	c := newClient(t)
	limited := false
	for range 20 {
		resp, body := get(t, c, base+"/?q=anything")
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = strings.Contains(body, "Too many searches")
			break
		}
	}
	if !limited {
		t.Fatal("20 searches in a row were never rate limited")
	}
	if n := b.searches.Load(); n > 10 {
		t.Errorf("backend ran %d searches despite the limit", n)
	}
}

func TestHostCheck(t *testing.T) {
	_, base := testServer(t, newTestBackend(t), nil)
	c := newClient(t)
	for _, tt := range []struct {
		host string
		want int
	}{
		{"", 200},
		{"localhost:8080", 200},
		{"[::1]:8080", 200},
		{"evil.example", http.StatusMisdirectedRequest},
		{"rebind.evil.example:80", http.StatusMisdirectedRequest},
	} {
		req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
		if tt.host != "" {
			req.Host = tt.host
		}
		if resp, _ := do(t, c, req); resp.StatusCode != tt.want {
			t.Errorf("Host %q: status %d, want %d", tt.host, resp.StatusCode, tt.want)
		}
	}
}
