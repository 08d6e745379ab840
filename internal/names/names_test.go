package names

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestComponent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"..", ""},
		{".", ""},
		{"...", ""},
		{".hidden", "hidden"},
		{"..\\..\\evil", "_.._evil"},
		{"../../etc/passwd", "_.._etc_passwd"},
		{"name. . ", "name"},
		{" lead", "lead"},
		{"a\x00b\r\nc\u202eexe.txt", "abcexe.txt"},
		{"\x1b[2J\x1b]0;pwned\x07title", "[2J]0;pwnedtitle"},
		{"\u009b31mred", "31mred"},
		{"zero\u200bwidth\ufeff", "zerowidth"},
		{`<script>"x":*?|.txt`, "_script__x_____.txt"},
		{"C:evil", "C_evil"},
		{"CON", "_CON"},
		{"con.txt", "_con.txt"},
		{"Nul .tar.gz", "_Nul .tar.gz"},
		{"COM1", "_COM1"},
		{"lpt9.log", "_lpt9.log"},
		{"COM10", "COM10"},
		{"console.txt", "console.txt"},
		{"Café ☕ map.png", "Café ☕ map.png"},
		{"日本語のファイル.txt", "日本語のファイル.txt"},
		{"bad\xffutf8", "badutf8"},
		{strings.Repeat("é", 150), strings.Repeat("é", MaxComponent/2)},
		{strings.Repeat("a", 300), strings.Repeat("a", MaxComponent)},
		{"\r\r\r", ""},
	}
	for _, tt := range tests {
		if got := Component(tt.in); got != tt.want {
			t.Errorf("Component(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"maps/tiles/a.png", "a.png"},
		{`C:\Users\x\evil.exe`, "evil.exe"},
		{"../../etc/passwd", "passwd"},
		{"dir/..", ""},
		{"dir/.bashrc", "bashrc"},
	}
	for _, tt := range tests {
		if got := Base(tt.in); got != tt.want {
			t.Errorf("Base(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRelPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"maps/tiles/a.png", "maps/tiles/a.png"},
		{"./maps/./a.png", "maps/a.png"},
		{"maps/.git/config", "maps/git/config"},
		{"maps/con/aux.txt", "maps/_con/_aux.txt"},
		{`maps/a\..\..\b`, "maps/a_.._.._b"},
		{"maps/\x1b[31mred/x", "maps/[31mred/x"},
		{"a/b.", "a/b"},
		// refused
		{"", ""},
		{"/etc/passwd", ""},
		{`\\server\share`, ""},
		{"C:/Windows/x", ""},
		{"../x", ""},
		{"a/../../x", ""},
		{"a//b", ""},
		{"a/", ""},
		{"a/\r\n/b", ""},
		{"a/../b", ""},
		{".", ""},
		{strings.Repeat("a/", MaxDepth) + "b", ""},
		{strings.Repeat("a", MaxPath+1), ""},
	}
	for _, tt := range tests {
		got, err := RelPath(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrUnsafePath) {
				t.Errorf("RelPath(%q) = %q, %v; want ErrUnsafePath", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("RelPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestDisplay(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain name.txt", "plain name.txt"},
		{"Zürich ☕ 日本", "Zürich ☕ 日本"},
		{"\x1b[2J\x1b]0;pwned\x07", `\x1b[2J\x1b]0;pwned\a`},
		{"fake\rreal", `fake\rreal`},
		{"line\nbreak", `line\nbreak`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"\u009b31m", `\u009b31m`},
		{"bad\xffutf8", `bad\xffutf8`},
		{`back\slash`, `back\\slash`},
	}
	for _, tt := range tests {
		if got := Display(tt.in); got != tt.want {
			t.Errorf("Display(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzNames checks the sanitisers' promises on any input: no hidden
// character survives, a component is never "." or ".." nor starts with a
// dot, a relative path never escapes its folder.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "\x1b]0;x\x07", "con.txt", ". .", "a\\..\\b", "\xff/\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Component(s)
		if !utf8.ValidString(c) || len(c) > MaxComponent || Component(c) != c || strings.ContainsAny(c, `/\:*?"<>|`) ||
			strings.HasPrefix(c, ".") || strings.HasSuffix(c, ".") || strings.HasSuffix(c, " ") {
			t.Fatalf("Component(%q) = %q", s, c)
		}
		for _, r := range c {
			if hidden(r) {
				t.Fatalf("Component(%q) = %q keeps %U", s, c, r)
			}
		}
		if p, err := RelPath(s); err == nil {
			for _, part := range strings.Split(p, "/") {
				if part == "" || part != Component(part) {
					t.Fatalf("RelPath(%q) = %q: component %q", s, p, part)
				}
			}
		}
		d := Display(s)
		for _, r := range d {
			if hidden(r) {
				t.Fatalf("Display(%q) = %q keeps %U", s, d, r)
			}
		}
	})
}
