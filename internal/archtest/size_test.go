package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// sourceFiles lists every non-test .go file under root, slash-separated and
// relative to it, leaving out testdata, vendor and hidden directories.
func sourceFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// violation is one file or function over its limit.
type violation struct {
	where string // file, or file:line name for a function
	lines int
	limit int
}

// fileViolations returns the file's own violation, if it is too long, and
// one per function that is.
func fileViolations(fset *token.FileSet, rel string, f *ast.File) []violation {
	var out []violation
	if n := fset.File(f.Pos()).LineCount(); n > MaxFileLines {
		out = append(out, violation{rel, n, MaxFileLines})
	}
	ast.Inspect(f, func(n ast.Node) bool {
		var name string
		switch fn := n.(type) {
		case *ast.FuncDecl:
			name = funcName(fn)
		case *ast.FuncLit:
			name = "func literal" // only at package level: FuncDecl bodies are not descended into
		default:
			return true
		}
		start, end := fset.Position(n.Pos()), fset.Position(n.End())
		if lines := end.Line - start.Line + 1; lines > MaxFuncLines {
			out = append(out, violation{rel + ":" + strconv.Itoa(start.Line) + " " + name, lines, MaxFuncLines})
		}
		return false
	})
	return out
}

// funcName is "Name" for a function and "(*T).Name" or "(T).Name" for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	typ := fn.Recv.List[0].Type
	star := ""
	if s, ok := typ.(*ast.StarExpr); ok {
		star, typ = "*", s.X
	}
	switch x := typ.(type) {
	case *ast.IndexExpr:
		typ = x.X
	case *ast.IndexListExpr:
		typ = x.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return "(" + star + id.Name + ")." + fn.Name.Name
	}
	return fn.Name.Name
}

// TestSizeLimits: no non-test Go file in the repository is over
// MaxFileLines lines, and no function in one over MaxFuncLines, so that
// every file stays one concept a reader can hold (issue #17).
func TestSizeLimits(t *testing.T) {
	root, err := findModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := sourceFiles(t, root)
	if len(files) < 100 {
		t.Fatalf("found only %d Go files under %s", len(files), root)
	}
	for _, rel := range files {
		f, err := parser.ParseFile(fset, filepath.Join(root, filepath.FromSlash(rel)), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range fileViolations(fset, rel, f) {
			t.Errorf("%s is %d lines, limit %d", v.where, v.lines, v.limit)
		}
	}
}

// TestFileViolationsCounts: a function of MaxFuncLines lines from func to
// its closing brace passes, one more line is reported with its name, and so
// is a package-level function literal and a file over MaxFileLines.
func TestFileViolationsCounts(t *testing.T) {
	body := func(lines int) string { return strings.Repeat("\t_ = 0\n", lines-2) }
	src := "package p\n\n" +
		"func fits() {\n" + body(MaxFuncLines) + "}\n\n" +
		"func (r *T) tooLong() {\n" + body(MaxFuncLines+1) + "}\n\n" +
		"var lit = func() {\n" + body(MaxFuncLines+1) + "}\n"
	src += strings.Repeat("\n", MaxFileLines-strings.Count(src, "\n")+1)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range fileViolations(fset, "p.go", f) {
		got = append(got, v.where+" "+strconv.Itoa(v.lines))
	}
	want := []string{
		"p.go " + strconv.Itoa(MaxFileLines+1),
		"p.go:" + strconv.Itoa(3+MaxFuncLines+1) + " (*T).tooLong " + strconv.Itoa(MaxFuncLines+1),
		"p.go:" + strconv.Itoa(3+MaxFuncLines+1+MaxFuncLines+2) + " func literal " + strconv.Itoa(MaxFuncLines+1),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
