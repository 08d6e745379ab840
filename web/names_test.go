package web

import (
	"mime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/servent-p2p/servent/internal/names"
)

func TestContentDisposition(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a.txt", `attachment; filename="a.txt"; filename*=UTF-8''a.txt`},
		{"my file (1).pdf", `attachment; filename="my file (1).pdf"; filename*=UTF-8''my%20file%20%281%29.pdf`},
		{"Ünïcode 100%.txt", `attachment; filename="_n_code 100_.txt"; filename*=UTF-8''%C3%9Cn%C3%AFcode%20100%25.txt`},
	}
	for _, tt := range tests {
		if got := contentDisposition(tt.in); got != tt.want {
			t.Errorf("contentDisposition(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNumberedName(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"photo.jpg", 0, "photo.jpg"},
		{"photo.jpg", 1, "photo (1).jpg"},
		{"archive.tar.gz", 2, "archive.tar (2).gz"},
		{"README", 3, "README (3)"},
		{".profile", 1, ".profile (1)"},
	}
	for _, tt := range tests {
		if got := numberedName(tt.in, tt.n); got != tt.want {
			t.Errorf("numberedName(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{5 << 20, "5.0 MiB"}, {3 << 30, "3.0 GiB"}, {1 << 62, "4.0 EiB"},
	}
	for _, tt := range tests {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"a.PDF": "application/pdf", "b.png": "image/png", "c.txt": "text/plain; charset=utf-8", "d": "application/octet-stream",
	} {
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
}

// FuzzFileName decodes hostile names as the download route does: the
// sanitised name is a safe base name and the header round-trips it.
func FuzzFileName(f *testing.F) {
	for _, s := range []string{"a.txt", "../x", "<script>alert(1)</script>", `"quotes' & <b>`, "é\x00\r\n", "..", strings.Repeat("z", 300), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		name := names.Base(in)
		if len(name) > names.MaxComponent || !utf8.ValidString(name) || strings.ContainsAny(name, "/\\\x00\r\n\"<>") || strings.HasPrefix(name, ".") {
			t.Fatalf("names.Base(%q) = %q", in, name)
		}
		if names.Base(name) != name {
			t.Fatalf("names.Base not idempotent on %q", name)
		}
		if name == "" {
			return
		}
		cd := contentDisposition(name)
		for i := 0; i < len(cd); i++ {
			if cd[i] < 0x20 || cd[i] > 0x7e {
				t.Fatalf("header %q has byte %#x", cd, cd[i])
			}
		}
		disp, params, err := mime.ParseMediaType(cd)
		if err != nil || disp != "attachment" || params["filename"] != name {
			t.Fatalf("ParseMediaType(%q) = %q %q %v, want filename %q", cd, disp, params, err, name)
		}
	})
}
