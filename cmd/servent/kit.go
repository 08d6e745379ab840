package main

import (
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/internal/names"
	"github.com/servent-p2p/servent/kit"
)

func newKitCmd() *cobra.Command {
	var (
		cf      clientFlags
		out     string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "kit [flags] [PLATFORM]",
		Short: "List servent for every platform on the network, or fetch one (verified)",
		Long: `Without PLATFORM: list the servent binaries the network offers (every node
offers its own, nodes started with a drill kit offer all of them), numbered
like a search. With PLATFORM (goos/goarch, e.g. windows/amd64): download the
binary for it from the peers that have it, verified chunk by chunk against
its content hash like any download. Give it to the laptop that needs it
(USB stick, or its browser on the phone page of a node started with --web).`,
		Example: `  servent kit
  servent kit windows/amd64 --out /media/usb`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, cfg, err := cf.client(cmd)
			if err != nil {
				return err
			}
			var want kit.Target
			if len(args) == 1 {
				if want, err = kit.ParseTarget(args[0]); err != nil {
					return &exitError{code: 2, err: err}
				}
			}
			ctx, stop := signalContext()
			defer stop()
			found, err := findKitBinaries(ctx, client, timeout)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				for _, r := range found {
					if t, _ := kit.TargetOfFile(path.Base(r.Name)); t == want {
						return download(cmd, client, api.GetRequest{Hash: r.Hash, Name: path.Base(r.Name), Sources: r.Sources}, out, cf.json)
					}
				}
				return &exitError{code: 1, err: fmt.Errorf("no peer offers servent for %s (servent kit lists what the network has)", want)}
			}
			return listKit(cmd.OutOrStdout(), cfg.Data, found, cf.json)
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&out, "out", ".", "folder to save into")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for answers")
	return cmd
}

// findKitBinaries searches the network for servent binaries, most
// sources first: with several builds of one platform on the network, the
// one most nodes hold comes first.
func findKitBinaries(ctx context.Context, client *api.Client, timeout time.Duration) ([]api.Result, error) {
	var found []api.Result
	err := client.Search(ctx, api.SearchRequest{Words: []string{"servent"}, Timeout: timeout}, func(ev api.SearchEvent) {
		if r := ev.Result; r != nil {
			if _, ok := kit.TargetOfFile(path.Base(r.Name)); ok {
				found = mergeResult(found, *r)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(found, func(a, b api.Result) int { return len(b.Sources) - len(a.Sources) })
	return found, nil
}

// listKit prints the servent binaries found, numbered like a search, and
// keeps them in dataDir for `servent get N`.
func listKit(w io.Writer, dataDir string, found []api.Result, jsonOut bool) error {
	saveErr := saveLastSearch(dataDir, found)
	if jsonOut {
		for _, r := range found {
			printJSON(w, r)
		}
	} else {
		tw := newTable(w)
		fmt.Fprintln(tw, "#\tPLATFORM\tSIZE\tSOURCES\tNAME\tHASH")
		for i, r := range found {
			t, _ := kit.TargetOfFile(path.Base(r.Name))
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", i+1, t, humanBytes(r.Size), len(r.Sources), names.Display(path.Base(r.Name)), r.Hash)
		}
		tw.Flush()
	}
	if len(found) == 0 {
		if !jsonOut {
			fmt.Fprintln(w, "no servent binaries found on the network")
		}
		return &exitError{code: 1, err: saveErr}
	}
	if saveErr != nil {
		return &exitError{code: 1, err: saveErr}
	}
	if !jsonOut {
		fmt.Fprintln(w, "Fetch one: servent kit PLATFORM --out DIR (or servent get N)")
	}
	return nil
}

// mergeResult adds r to rs, or updates the entry with its hash (a search
// reports a file again as more sources answer).
func mergeResult(rs []api.Result, r api.Result) []api.Result {
	for i := range rs {
		if rs[i].Hash == r.Hash {
			rs[i] = r
			return rs
		}
	}
	return append(rs, r)
}
