package api

import "time"

// Routes of the folder features of the control API.
const (
	RouteBrowse    = "/v1/browse"
	RouteGetFolder = "/v1/get-folder"
)

// BrowseRequest asks the daemon what a peer shares (servent browse).
// Peer is a member's name or the start of its key's fingerprint, as
// `servent peers` shows them; Folder ("" for everything) narrows the
// listing to one share-relative folder.
type BrowseRequest struct {
	Peer    string        `json:"peer"`
	Folder  string        `json:"folder,omitempty"`
	Timeout time.Duration `json:"timeout_ns,omitempty"`
}

// Listing is what a peer shares (below Folder), as it told this node.
// Paths and the peer's name are the peer's own: sanitise them
// (internal/names) before printing or creating files.
type Listing struct {
	Peer   Source       `json:"peer"`
	Folder string       `json:"folder,omitempty"`
	Files  []ListedFile `json:"files"`
}

// ListedFile is one file of a Listing.
type ListedFile struct {
	Path string `json:"path"` // share-relative, slash-separated
	Size int64  `json:"size"`
	Hash string `json:"hash"`
}

// FolderRequest asks the daemon to download a peer's folder, with its
// structure, into OutDir/<folder's name>. Every file is verified; running
// the same request again resumes, keeping the files already there.
type FolderRequest struct {
	Peer   string `json:"peer"`
	Folder string `json:"folder"` // "" for everything the peer shares
	OutDir string `json:"out_dir"`
}
