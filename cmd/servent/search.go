package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
)

// lastSearchFile keeps the results of the last search in the data dir, so
// `servent get 3` can name a result by its number.
const lastSearchFile = "last-search.json"

// searchFlags are the flags of `servent search`.
type searchFlags struct {
	cf      clientFlags
	timeout time.Duration
	max     int
	hash    string
}

func newSearchCmd() *cobra.Command {
	var f searchFlags
	cmd := &cobra.Command{
		Use:   "search [flags] WORDS...",
		Short: "Search every shared folder on the network",
		Long: `Search every shared folder on the network. A file matches when each word
equals a word of its path, or starts one when it has 3 letters or more; case,
accents and full-width forms do not matter ("zurich map" finds
maps/Zürich-city-map.pdf, "evac" finds Évacuation.pdf, 日本語 finds
日本語のファイル.txt). Results print as they arrive, ranked (exact words first,
then most sources), numbered; fetch one with "servent get N". Exit status: 0
found; 1 nothing found, or a failure (no daemon running, the results could
not be saved for "servent get N"); 2 wrong usage or bad configuration.`,
		Example: `  servent search water map
  servent search --hash 3f7a...e1 --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && f.hash == "" {
				return fmt.Errorf("%w: give words to search for, or --hash HASH; usage: %s", errUsage, cmd.UseLine())
			}
			return nil
		},
		RunE: f.run,
	}
	f.cf.register(cmd)
	cmd.Flags().DurationVar(&f.timeout, "timeout", 3*time.Second, "how long to wait for answers")
	cmd.Flags().IntVar(&f.max, "max", 0, "stop after this many files (0: no limit)")
	cmd.Flags().StringVar(&f.hash, "hash", "", "search for one content hash instead of words")
	return cmd
}

// run searches for words (or --hash), prints the results as they arrive,
// keeps them for `servent get N` and prints a summary.
func (f *searchFlags) run(cmd *cobra.Command, words []string) error {
	client, cfg, err := f.cf.client(cmd)
	if err != nil {
		return err
	}
	req := api.SearchRequest{Words: words, Timeout: f.timeout, Max: f.max}
	if f.hash != "" {
		h, err := content.ParseHash(f.hash)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--hash: %w", err)}
		}
		req.Hash = h.String()
	}
	ctx, stop := signalContext()
	defer stop()
	out := cmd.OutOrStdout()
	results, done, err := f.stream(ctx, client, req, out)
	if err != nil {
		return err
	}
	saveErr := keepForGet(cfg.Data, results)
	if done != nil && done.Warning != "" {
		fmt.Fprintln(os.Stderr, "servent:", done.Warning)
	}
	if len(results) == 0 {
		if !f.cf.json {
			fmt.Fprintln(out, "nothing found")
		}
		return &exitError{code: 1}
	}
	if !f.cf.json && done != nil {
		printSearchSummary(out, results, done)
	}
	return saveErr
}

// stream runs the search and prints each result as it arrives: into the
// ranked table, or as a JSON line with --json. It returns the results
// (ranked, or in arrival order with --json) and the search's summary.
func (f *searchFlags) stream(ctx context.Context, client *api.Client, req api.SearchRequest, out io.Writer) ([]api.Result, *api.SearchDone, error) {
	var (
		table    *resultTable
		done     *api.SearchDone
		jsonRows []api.Result // --json: results in arrival order
		failed   error        // an error event from the daemon
	)
	if !f.cf.json {
		table = newResultTable(out, stdoutIsTerminal())
	}
	err := client.Search(ctx, req, func(ev api.SearchEvent) {
		switch {
		case ev.Result != nil:
			r := *ev.Result
			if table != nil {
				table.add(r)
				return
			}
			printJSON(out, r)
			if i := slices.IndexFunc(jsonRows, func(x api.Result) bool { return x.Hash == r.Hash }); i >= 0 {
				jsonRows[i] = r
			} else {
				jsonRows = append(jsonRows, r)
			}
		case ev.Done != nil:
			done = ev.Done
		case ev.Error != "":
			failed = errors.New(ev.Error)
		}
	})
	err = cmp.Or(err, failed) // the stream's own failure, else the daemon's
	if table != nil {
		return table.rows(), done, err
	}
	return jsonRows, done, err
}

// printSearchSummary prints how many files the search found, how it
// ended, and which results several peers hold.
func printSearchSummary(out io.Writer, results []api.Result, done *api.SearchDone) {
	how := "every ultrapeer answered"
	switch {
	case done.Searched:
		how = "the ultrapeer's dynamic query ended"
	case !done.Complete:
		how = "timeout"
	}
	fmt.Fprintf(out, "%d files (%d hits) in %s (%s); first hit after %.1f ms. Download one: servent get N\n",
		len(results), done.Hits, done.Elapsed.Round(time.Millisecond), how, float64(done.FirstHit)/1e6)
	for i, r := range results {
		if len(r.Sources) > 1 {
			fmt.Fprintf(out, "  #%d is on %d peers\n", i+1, len(r.Sources))
		}
	}
}

// keepForGet saves a search's results for `servent get N`. When that fails
// it says so at once (the results are on the screen, `get N` will not find
// them) and returns exit status 1 for the end of the command.
func keepForGet(dataDir string, results []api.Result) error {
	if err := saveLastSearch(dataDir, results); err != nil {
		fmt.Fprintln(os.Stderr, "servent:", err)
		return &exitError{code: 1}
	}
	return nil
}

// saveLastSearch keeps results for `servent get N`. When that fails it
// removes the previous search's results, so that a later `get N` cannot
// take a result of an older search, and its error says what `get` will do.
func saveLastSearch(dataDir string, results []api.Result) error {
	err := writeLastSearch(dataDir, results)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("the results could not be saved for `servent get N`: %w", err)
	if rm := os.Remove(filepath.Join(dataDir, lastSearchFile)); rm != nil && !errors.Is(rm, os.ErrNotExist) {
		return fmt.Errorf("%w; nor could the previous search's be removed (%v): `servent get N` would take a result of that older search, so get by hash", err, rm)
	}
	return fmt.Errorf("%w; get a result by its hash", err)
}

// writeLastSearch replaces the last search's file atomically.
func writeLastSearch(dataDir string, results []api.Result) error {
	b, err := json.Marshal(results)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dataDir, lastSearchFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dataDir, lastSearchFile))
}

func loadLastSearch(dataDir string) ([]api.Result, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, lastSearchFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var results []api.Result
	return results, json.Unmarshal(b, &results)
}
