package web

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

type upFile struct{ name, content string }

// postUpload sends the upload form: the csrf field first, then the files.
func postUpload(t *testing.T, c *http.Client, base, origin, token string, files ...upFile) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if token != "" {
		mw.WriteField("csrf", token)
	}
	for _, f := range files {
		w, err := mw.CreateFormFile("file", f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.content))
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, base+"/upload", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return do(t, c, req)
}

// dirNames lists a folder, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

func TestUpload(t *testing.T) {
	b := newTestBackend(t)
	drop := filepath.Join(t.TempDir(), "drop")
	s, base := testServer(t, b, func(c *Config) { c.DropDir = drop; c.MaxUpload = 1000 })
	c := newClient(t)
	_, page := get(t, c, base+"/")
	if !strings.Contains(page, `action="/upload"`) {
		t.Fatal("no upload form with a drop folder")
	}
	tok := csrfFrom(t, page)

	resp, page := postUpload(t, c, base, base, tok, upFile{"photo.jpg", "one"})
	if resp.StatusCode != 200 || !strings.Contains(page, "Saved as photo.jpg") {
		t.Fatalf("upload: status %d\n%s", resp.StatusCode, page)
	}
	resp, page = postUpload(t, c, base, base, tok, upFile{"photo.jpg", "two"}, upFile{"../../photo.jpg", "three"})
	if resp.StatusCode != 200 || !strings.Contains(page, "Saved as photo (1).jpg, photo (2).jpg") {
		t.Fatalf("second upload: status %d\n%s", resp.StatusCode, page)
	}
	for name, want := range map[string]string{"photo.jpg": "one", "photo (1).jpg": "two", "photo (2).jpg": "three"} {
		got, err := os.ReadFile(filepath.Join(drop, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if n := b.rescans.Load(); n != 2 {
		t.Errorf("%d rescans, want 2", n)
	}

	failures := []struct {
		name   string
		origin string
		token  string
		files  []upFile
		status int
		msg    string
	}{
		{"too big", base, tok, []upFile{{"big.bin", strings.Repeat("x", 1001)}}, http.StatusRequestEntityTooLarge, "too big"},
		{"body over the cap", base, tok, []upFile{{"huge.bin", strings.Repeat("x", 70<<10)}}, http.StatusRequestEntityTooLarge, "too big"},
		{"no csrf", base, "", []upFile{{"a.txt", "a"}}, http.StatusForbidden, "expired"},
		{"bad csrf", base, "nope", []upFile{{"a.txt", "a"}}, http.StatusForbidden, "expired"},
		{"other origin", "http://evil.example", tok, []upFile{{"a.txt", "a"}}, http.StatusForbidden, "another site"},
		{"no file", base, tok, nil, http.StatusBadRequest, "Choose a file"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			resp, page := postUpload(t, c, base, tt.origin, tt.token, tt.files...)
			if resp.StatusCode != tt.status || !strings.Contains(page, tt.msg) {
				t.Fatalf("status %d, want %d with %q\n%s", resp.StatusCode, tt.status, tt.msg, page)
			}
		})
	}
	if got, want := dirNames(t, drop), []string{"photo (1).jpg", "photo (2).jpg", "photo.jpg"}; !slices.Equal(got, want) {
		t.Errorf("drop folder holds %q, want %q (no partial files left)", got, want)
	}

	t.Run("disk full", func(t *testing.T) {
		s.createFile = func(root *os.Root, name string) (uploadFile, error) {
			f, err := createUploadFile(root, name)
			return &fullDisk{uploadFile: f}, err
		}
		resp, page := postUpload(t, c, base, base, tok, upFile{"video.mp4", "0123456789"})
		if resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(page, "disk is full") {
			t.Fatalf("status %d\n%s", resp.StatusCode, page)
		}
		if got := dirNames(t, drop); len(got) != 3 {
			t.Errorf("drop folder after a full disk: %q", got)
		}
	})
}

// fullDisk fails writes as a full disk does.
type fullDisk struct{ uploadFile }

func (fullDisk) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}
}

func TestUploadOff(t *testing.T) {
	_, base := testServer(t, newTestBackend(t), nil)
	c := newClient(t)
	_, page := get(t, c, base+"/")
	if strings.Contains(page, "/upload") {
		t.Error("upload form shown without a drop folder")
	}
	resp, _ := postUpload(t, c, base, base, "token", upFile{"a.txt", "a"})
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("upload without a drop folder: status %d", resp.StatusCode)
	}
}

func TestUploadErrClassification(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want error
	}{
		{&os.PathError{Err: syscall.ENOSPC}, errDiskFull},
		{&os.PathError{Err: syscall.EDQUOT}, errDiskFull},
		{&http.MaxBytesError{Limit: 1}, errTooBig},
	} {
		if got := uploadErr(tt.err); !errors.Is(got, tt.want) {
			t.Errorf("uploadErr(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
