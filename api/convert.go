package api

import (
	"time"

	"github.com/servent-p2p/servent/storage"
	"github.com/servent-p2p/servent/transfer"
)

// SharesOf converts catalog entries to their API form.
func SharesOf(files []storage.File) []Share {
	out := make([]Share, len(files))
	for i, f := range files {
		out[i] = Share{Root: f.Root, Path: f.Path, Size: f.Size, Hash: f.Hash.String(), ModTime: time.Unix(0, f.ModTime).UTC()}
	}
	return out
}

// ProgressOf converts a download's progress to its API form.
func ProgressOf(p transfer.Progress) Progress {
	out := Progress{Bytes: p.Done, Total: p.Size, Sources: p.Sources}
	for _, q := range p.Queued {
		out.Queue = append(out.Queue, QueuePlace{Source: q.Source, Position: q.Position, Length: q.Length, WaitSecs: q.Wait.Seconds()})
	}
	return out
}
