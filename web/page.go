package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
)

//go:embed page.html
var pageFS embed.FS

func parseTemplates() (*template.Template, error) {
	t, err := template.New("").ParseFS(pageFS, "page.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	return t, nil
}

// pageData is everything the page template shows.
type pageData struct {
	Nonce    string
	CSRF     string
	NodeName string
	Open     bool // no passphrase: the page says the network is open
	Locked   bool // a passphrase is set (the logout button shows)

	Query    string
	Searched bool
	Results  []resultView
	Summary  string
	Warning  string
	Error    string
	Notice   string

	Upload    bool
	MaxUpload string

	Kit []kitView // servent for the visitor's computer

	Browse *browseData // the browse view
}

// resultView is one file in the result list.
type resultView struct {
	Name    string
	Size    string
	Hash    string
	Sources int
	// Partial is how many of the sources are still downloading the file
	// (they have only some of it).
	Partial int
	Names   string // source node names, for the title tooltip
	Href    string
	// Folder is the folder the file is in on its first source, and
	// FolderHref the browse view of it ("" at the top of the shares).
	Folder     string
	FolderHref string
}

// downloadHref is the page's link for a result.
func downloadHref(hash, name string) string {
	u := url.URL{Path: "/dl/" + hash, RawQuery: url.Values{"name": {name}}.Encode()}
	return u.String()
}

// basePage fills the fields every page has.
func (s *Server) basePage(w http.ResponseWriter, r *http.Request) pageData {
	return pageData{
		Nonce:     randomToken()[:22],
		CSRF:      s.csrfToken(w, r),
		NodeName:  s.cfg.NodeName,
		Open:      s.cfg.Passphrase == "",
		Locked:    s.cfg.Passphrase != "",
		Upload:    s.drop != nil,
		MaxUpload: humanSize(s.cfg.MaxUpload),
		Kit:       s.kitFor(r.UserAgent()),
	}
}

// render executes a template into a buffer, then writes it with the
// page's security headers (a CSP allowing only this page's inline style
// and script, by nonce).
func (s *Server) render(w http.ResponseWriter, status int, name string, data pageData) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("rendering the page", "template", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+data.Nonce+"'; script-src 'nonce-"+data.Nonce+
		"'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderLogin shows the passphrase form with an optional error.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	data := s.basePage(w, r)
	data.Error = msg
	s.render(w, status, "login", data)
}
