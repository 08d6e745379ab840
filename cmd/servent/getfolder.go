package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/internal/names"
)

// downloadFolder runs a verified folder download into the folder out and
// prints its result, with one progress bar for the whole folder. It
// blocks until every file is saved or the download fails.
func downloadFolder(cmd *cobra.Command, client *api.Client, req api.FolderRequest, out string, asJSON bool) error {
	var err error
	if req.OutDir, err = filepath.Abs(out); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	label := req.Folder
	if label == "" {
		label = req.Peer
	}
	progress := newGetProgress(os.Stderr, stdoutIsTerminal() && !asJSON, names.Display(label))
	if asJSON {
		progress.events = cmd.OutOrStdout()
	}
	done, err := runStream(ctx, func(fn func(api.GetEvent)) error { return client.GetFolder(ctx, req, fn) }, progress.update)
	progress.finish(err == nil)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if asJSON {
		return printJSON(w, done)
	}
	for _, s := range done.Skipped {
		fmt.Fprintf(w, "skipped %s: its name cannot be made safe here, or another file took it\n", names.Display(s))
	}
	printLiars(w, done.Liars)
	kept := ""
	if done.Kept > 0 {
		kept = fmt.Sprintf(", %d already there from an earlier run", done.Kept)
	}
	fmt.Fprintf(w, "saved folder %s: %d files (%s, verified%s) in %.1fs\n",
		names.Display(done.Path), done.Files, humanBytes(done.Size), kept, done.Seconds)
	return nil
}
