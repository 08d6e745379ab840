package names

import (
	"errors"
	"testing"
)

// TestTree: safe paths are taken once, case-insensitively; a file cannot
// sit where a folder is needed nor the other way round; unsafe paths are
// refused and take nothing.
func TestTree(t *testing.T) {
	var tr Tree
	for _, c := range []struct {
		in, want string
		err      error
	}{
		{"a.txt", "a.txt", nil},
		{"A.TXT", "", ErrNameTaken},
		{"sub/b.txt", "sub/b.txt", nil},
		{"sub", "", ErrNameTaken},     // a file where a folder is needed
		{"a.txt/c", "", ErrNameTaken}, // a folder where a file is
		{"x/../../etc/passwd", "", ErrUnsafePath},
		{"/etc/passwd", "", ErrUnsafePath},
		{".git/config", "git/config", nil},
		{"con/\x1b[2Jz.txt", "_con/[2Jz.txt", nil},
		{"Sub/Deeper/d.txt", "Sub/Deeper/d.txt", nil}, // Sub is sub: one folder
		{"etc/passwd", "etc/passwd", nil},             // not taken by the refused one
	} {
		got, err := tr.Add(c.in)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Add(%q) = %q, %v; want %q, %v", c.in, got, err, c.want, c.err)
		}
	}
}
