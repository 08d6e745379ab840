package api

import (
	"strings"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/internal/names"
)

// FolderFile is one file of a Listing laid out below the folder's root.
type FolderFile struct {
	Rel  string // safe, slash-separated, below the folder's root
	Size int64
	Hash content.Hash
}

// Layout lays out the files of l below its folder's root, in listing
// order, the one way a folder is saved (`servent get PEER:FOLDER`, the
// phone page's .zip of a folder): paths relative to the folder, laid out
// by names.Tree. Files with a bad hash or size, outside the folder, whose
// path cannot be made safe or collides with another after sanitising are
// left out and returned (for display).
func (l Listing) Layout() (files []FolderFile, skipped []string) {
	prefix := ""
	if l.Folder != "" {
		prefix = l.Folder + "/"
	}
	var tree names.Tree
	for _, f := range l.Files {
		h, err := content.ParseHash(f.Hash)
		rel := ""
		if err == nil && strings.HasPrefix(f.Path, prefix) && f.Size >= 0 {
			rel, err = tree.Add(strings.TrimPrefix(f.Path, prefix))
		}
		if rel == "" {
			skipped = append(skipped, names.Display(f.Path))
			continue
		}
		files = append(files, FolderFile{Rel: rel, Size: f.Size, Hash: h})
	}
	return files, skipped
}

// RootName is the name a downloaded folder is saved under: the folder's
// own last element, or the peer's name for everything it shares, made
// safe (names.Component); "servent-folder" when nothing is left.
func (l Listing) RootName() string {
	name := names.Base(l.Folder)
	if l.Folder == "" {
		name = names.Component(l.Peer.Name)
	}
	if name == "" {
		name = "servent-folder"
	}
	return name
}
