package api

import (
	"time"

	"github.com/servent-p2p/servent/storage"
)

// SharesOf converts catalog entries to their API form.
func SharesOf(files []storage.File) []Share {
	out := make([]Share, len(files))
	for i, f := range files {
		out[i] = Share{Root: f.Root, Path: f.Path, Size: f.Size, Hash: f.Hash.String(), ModTime: time.Unix(0, f.ModTime).UTC()}
	}
	return out
}
