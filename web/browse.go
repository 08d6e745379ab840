package web

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/browse"
	"github.com/servent-p2p/servent/internal/names"
)

// Browse view limits.
const (
	// browseTimeout bounds one browse of a peer from the page.
	browseTimeout = 15 * time.Second
	// maxBrowseFiles is the most files one folder shows (a phone page).
	maxBrowseFiles = 500
)

// browseData is what the browse view shows: the peers, or one folder of
// one peer (its subfolders, then its files).
type browseData struct {
	Peers   []peerView
	Peer    string // the peer browsed ("" lists the peers)
	Folder  string // the folder shown, "" at the top
	Crumbs  []linkView
	Folders []linkView
	Files   []resultView
	More    int // files of the folder not shown (over maxBrowseFiles)
	// Zip links the folder as one .zip; ZipRefusal says why not instead
	// (too big for the page's limits).
	Zip        string
	ZipRefusal string
}

type peerView struct {
	Name   string
	Shares int
	Href   string
}

type linkView struct {
	Name string
	Href string
	Info string
}

// browseHref is the page's link to a peer's folder.
func browseHref(peer, folder string) string {
	v := url.Values{"peer": {peer}}
	if folder != "" {
		v.Set("dir", folder)
	}
	return (&url.URL{Path: "/browse", RawQuery: v.Encode()}).String()
}

// serveBrowse shows the peers, or one folder of a peer. A browse costs the
// peer a listing: it is limited like a search.
func (s *Server) serveBrowse(w http.ResponseWriter, r *http.Request) {
	data, peer, folder := s.browsePage(w, r)
	bd := data.Browse
	if peer == "" {
		for _, p := range s.backend.Peers() {
			if p.State != "alive" {
				continue
			}
			bd.Peers = append(bd.Peers, peerView{Name: names.Display(p.Name), Shares: p.Shares, Href: browseHref(p.Name, "")})
		}
		s.render(w, http.StatusOK, "browse", data)
		return
	}
	l, ok := s.listFolder(w, r, data, peer, folder)
	if !ok {
		return
	}
	if bd.ZipRefusal = s.zipRefusal(l); bd.ZipRefusal == "" {
		bd.Zip = zipHref(l.Peer.Name, l.Folder)
	}
	s.recent.add(listedResults(l))
	s.render(w, http.StatusOK, "browse", data)
}

// browsePage starts the browse view of the peer and folder r names.
func (s *Server) browsePage(w http.ResponseWriter, r *http.Request) (data pageData, peer, folder string) {
	data = s.basePage(w, r)
	peer = r.URL.Query().Get("peer")
	folder = browse.CleanFolder(r.URL.Query().Get("dir"))
	data.Browse = &browseData{Peer: names.Display(peer), Folder: names.Display(folder)}
	return data, peer, folder
}

// listFolder lists peer's folder for the browse view or a .zip, admitted
// like a search, and fills data's browse view with it. When it fails it
// renders the browse view with the reason and returns false.
func (s *Server) listFolder(w http.ResponseWriter, r *http.Request, data pageData, peer, folder string) (api.Listing, bool) {
	if !s.admitNetworkRequest(w, r, "browse", data, "requests") {
		return api.Listing{}, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), browseTimeout)
	l, err := s.backend.Browse(ctx, peer, folder)
	cancel()
	<-s.searchSlots
	if err != nil {
		data.Error = "Could not list that peer's files: " + names.Display(err.Error())
		s.render(w, http.StatusBadGateway, "browse", data)
		return api.Listing{}, false
	}
	fillFolder(data.Browse, l)
	return l, true
}

// fillFolder puts the subfolders and files of l's folder (not deeper)
// into bd, each sorted by name.
func fillFolder(bd *browseData, l api.Listing) {
	peer := l.Peer.Name
	bd.Crumbs = []linkView{{Name: names.Display(peer), Href: browseHref(peer, "")}}
	if l.Folder != "" {
		parts := strings.Split(l.Folder, "/")
		for i, p := range parts {
			bd.Crumbs = append(bd.Crumbs, linkView{Name: names.Display(p), Href: browseHref(peer, strings.Join(parts[:i+1], "/"))})
		}
	}
	prefix := ""
	if l.Folder != "" {
		prefix = l.Folder + "/"
	}
	counts := map[string]int{}
	for _, f := range l.Files {
		rest := strings.TrimPrefix(f.Path, prefix)
		if sub, _, deeper := strings.Cut(rest, "/"); deeper {
			counts[sub]++
			continue
		}
		bd.Files = append(bd.Files, resultView{
			Name: names.Display(rest), Size: humanSize(f.Size), Hash: f.Hash, Sources: 1,
			Names: names.Display(peer), Href: downloadHref(f.Hash, names.Base(rest)),
		})
	}
	for _, sub := range slices.Sorted(maps.Keys(counts)) {
		bd.Folders = append(bd.Folders, linkView{Name: names.Display(sub), Href: browseHref(peer, prefix+sub), Info: fmt.Sprintf("%d files", counts[sub])})
	}
	slices.SortFunc(bd.Files, func(a, b resultView) int { return strings.Compare(a.Name, b.Name) })
	if len(bd.Files) > maxBrowseFiles {
		bd.More = len(bd.Files) - maxBrowseFiles
		bd.Files = bd.Files[:maxBrowseFiles]
	}
}

// listedResults turns a listing into results with the peer as source, so
// a download from the browse view goes straight to it.
func listedResults(l api.Listing) []api.Result {
	out := make([]api.Result, len(l.Files))
	for i, f := range l.Files {
		out[i] = api.Result{Name: f.Path, Size: f.Size, Hash: f.Hash, Sources: []api.Source{l.Peer}}
	}
	return out
}
