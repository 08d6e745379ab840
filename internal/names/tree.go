package names

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// ErrNameTaken is returned by Tree.Add for a path that another path of the
// same tree already took after sanitising.
var ErrNameTaken = errors.New("name taken")

// Tree is the set of safe relative paths laid out below one folder (a
// folder download, a .zip of a folder): it refuses a path that collides
// with one taken before, case-insensitively (as on Windows, macOS and
// phones' storage), and a file where another path needs a folder or the
// other way round. The zero value is an empty tree. Not safe for
// concurrent use.
type Tree struct {
	files map[string]bool // lower-cased file paths taken
	dirs  map[string]bool // lower-cased folder paths needed
}

// Add makes p safe with RelPath and takes it. It returns the safe path, or
// an error (ErrUnsafePath, ErrNameTaken) for a path to leave out.
func (t *Tree) Add(p string) (string, error) {
	rel, err := RelPath(p)
	if err != nil {
		return "", err
	}
	if t.files == nil {
		t.files, t.dirs = map[string]bool{}, map[string]bool{}
	}
	key := strings.ToLower(rel)
	clash := t.files[key] || t.dirs[key]
	for d := path.Dir(key); d != "." && !clash; d = path.Dir(d) {
		clash = t.files[d]
	}
	if clash {
		return "", fmt.Errorf("%w: %s", ErrNameTaken, Display(rel))
	}
	t.files[key] = true
	for d := path.Dir(key); d != "."; d = path.Dir(d) {
		t.dirs[d] = true
	}
	return rel, nil
}
