package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/browse"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/internal/names"
)

func newGetCmd() *cobra.Command {
	var (
		cf       clientFlags
		out      string
		share    bool
		folderOf bool
	)
	cmd := &cobra.Command{
		Use:   "get [flags] HASH|N|NAME|PEER:FOLDER",
		Short: "Download a file or a folder directly from the peers that have it (verified, resumable)",
		Long: `Download a file directly from the peers that have it. Name it by content
hash, by its number N in the last search, or by the start of its name in the
last search. Chunks come from several peers at once and each is verified; an
interrupted download resumes where it stopped when you run the same command
again. An existing file is never overwritten.

PEER:FOLDER downloads a whole folder a peer shares (see "servent browse"),
with its structure, into OUT/<folder name>; "PEER:" takes everything it
shares. --folder takes the folder of a search result instead of the file.
Every file is verified; running the same command again resumes the folder,
keeping the files already saved. Names from the network are made safe
first (no "..", no hidden files, no control characters).`,
		Example: `  servent get 2
  servent get --out ~/Downloads water-map
  servent get 3f7a9c...e1
  servent get alice:maps/tiles
  servent get --folder 2`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, cfg, err := cf.client(cmd)
			if err != nil {
				return err
			}
			if peer, folder, ok := strings.Cut(args[0], ":"); ok && peer != "" && !folderOf {
				return downloadFolder(cmd, client, api.FolderRequest{Peer: peer, Folder: folder}, out, cf.json)
			}
			req, err := resolveTarget(cfg.Data, args[0])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if folderOf {
				if len(req.Sources) == 0 {
					return &exitError{code: 2, err: fmt.Errorf("--folder takes a result of the last search (a number or a name), not %q", args[0])}
				}
				return downloadFolder(cmd, client, api.FolderRequest{Peer: req.Sources[0].Name, Folder: browse.FolderOf(req.Name)}, out, cf.json)
			}
			req.Share = share
			return download(cmd, client, req, out, cf.json)
		},
	}
	cf.register(cmd)
	cmd.Flags().BoolVar(&folderOf, "folder", false, "download the folder the search result is in, from its first source")
	cmd.Flags().StringVar(&out, "out", ".", "folder to save into")
	cmd.Flags().BoolVar(&share, "share", false, "share the file once downloaded (it spreads through the drill)")
	return cmd
}

// download runs one verified download into the folder out and prints its
// result. It blocks until the file is saved or the download fails.
func download(cmd *cobra.Command, client *api.Client, req api.GetRequest, out string, asJSON bool) error {
	if out == "" {
		out = "."
	}
	var err error
	if req.OutDir, err = filepath.Abs(out); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	progress := newGetProgress(os.Stderr, stdoutIsTerminal() && !asJSON, names.Display(req.Name))
	if asJSON {
		progress.events = cmd.OutOrStdout()
	}
	done, err := runGet(ctx, client, req, progress.update)
	progress.finish(err == nil)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if asJSON {
		return printJSON(w, done)
	}
	if done.Renamed {
		fmt.Fprintf(w, "a file of that name existed: saved under a new name\n")
	}
	printLiars(w, done.Liars)
	fmt.Fprintf(w, "saved %s (%s, verified) in %.1fs from %d source(s)\n",
		names.Display(done.Path), humanBytes(done.Size), done.Seconds, len(done.Sources))
	return nil
}

// printLiars warns about the sources that sent corrupt data.
func printLiars(w io.Writer, liars []string) {
	for _, liar := range liars {
		fmt.Fprintf(w, "warning: %s sent corrupt data; it was dropped and the chunks fetched elsewhere\n", names.Display(liar))
	}
}

// errStreamBug: the daemon's download stream ended with neither a
// result nor an error, which the daemon must never do.
var errStreamBug = errors.New("bug: the daemon ended the download without a result or an error; its log (the output of `servent run`) says why")

// runGet runs a download through the daemon and returns its final record,
// or an error that says why there is none: the daemon's reason, an
// interruption, or a broken stream (a bug, not something to resume).
func runGet(ctx context.Context, client *api.Client, req api.GetRequest, progress func(api.Progress)) (*api.GetDone, error) {
	return runStream(ctx, func(fn func(api.GetEvent)) error { return client.Get(ctx, req, fn) }, progress)
}

// runStream reads the download stream call opens (a file's or a
// folder's): see runGet.
func runStream(ctx context.Context, call func(func(api.GetEvent)) error, progress func(api.Progress)) (*api.GetDone, error) {
	var (
		done   *api.GetDone
		reason string
	)
	err := call(func(ev api.GetEvent) {
		switch {
		case ev.Progress != nil:
			progress(*ev.Progress)
		case ev.Done != nil:
			done = ev.Done
		case ev.Error != "":
			reason = ev.Error
		}
	})
	switch {
	case reason != "":
		return nil, errors.New(reason)
	case done != nil:
		return done, nil
	case ctx.Err() != nil:
		return nil, errors.New("interrupted; what is downloaded is kept: run the same command to resume")
	case errors.Is(err, api.ErrBrokenStream):
		return nil, fmt.Errorf("%w (%v)", errStreamBug, err)
	case err != nil:
		return nil, err
	default:
		return nil, errStreamBug
	}
}

// resolveTarget turns HASH, N or a name prefix into a request, with the
// sources the last search found when it knows them.
func resolveTarget(dataDir, target string) (api.GetRequest, error) {
	if strings.TrimSpace(target) == "" {
		return api.GetRequest{}, errors.New("an empty name names no file: give a content hash, a result number of the last search or the start of a result's name")
	}
	last, err := loadLastSearch(dataDir)
	if err != nil {
		return api.GetRequest{}, fmt.Errorf("reading the last search: %w", err)
	}
	fromResult := func(r api.Result) api.GetRequest {
		return api.GetRequest{Hash: r.Hash, Name: r.Name, Sources: r.Sources}
	}
	if h, err := content.ParseHash(target); err == nil {
		for _, r := range last {
			if r.Hash == h.String() {
				return fromResult(r), nil
			}
		}
		return api.GetRequest{Hash: h.String()}, nil
	}
	if n, err := strconv.Atoi(target); err == nil {
		if n < 1 || n > len(last) {
			return api.GetRequest{}, fmt.Errorf("no result #%d in the last search (it had %d); run `servent search WORDS` first", n, len(last))
		}
		return fromResult(last[n-1]), nil
	}
	var matches []api.Result
	for _, r := range last {
		if strings.HasPrefix(strings.ToLower(filepath.Base(r.Name)), strings.ToLower(target)) ||
			strings.HasPrefix(strings.ToLower(r.Name), strings.ToLower(target)) {
			matches = append(matches, r)
		}
	}
	switch len(matches) {
	case 1:
		return fromResult(matches[0]), nil
	case 0:
		return api.GetRequest{}, fmt.Errorf("%q is not a hash, a result number or the start of a name in the last search", target)
	default:
		return api.GetRequest{}, fmt.Errorf("%q matches %d results of the last search; use its number", target, len(matches))
	}
}
