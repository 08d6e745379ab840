package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/daemon"
	"github.com/servent-p2p/servent/storage"
)

func newSharesCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "shares",
		Short: "List the files this node shares (works with or without the daemon running)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, cfg, err := cf.client(cmd)
			if err != nil {
				return err
			}
			shares, err := client.Shares(cmd.Context())
			if errors.Is(err, api.ErrNoDaemon) {
				shares, err = readCatalog(cfg.Data)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if cf.json {
				for _, s := range shares {
					if err := printJSON(out, s); err != nil {
						return err
					}
				}
				return nil
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "SIZE\tHASH\tPATH")
			var total int64
			for _, s := range shares {
				total += s.Size
				fmt.Fprintf(tw, "%s\t%s\t%s\n", humanBytes(s.Size), s.Hash[:16], s.Path)
			}
			tw.Flush()
			fmt.Fprintf(out, "%d files, %s\n", len(shares), humanBytes(total))
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}

// readCatalog opens the catalog read-only when no daemon is running.
func readCatalog(dataDir string) ([]api.Share, error) {
	st, err := storage.Open(daemon.CatalogDir(dataDir), storage.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("no daemon running and the catalog cannot be read: %w", err)
	}
	defer st.Close()
	files, err := st.Files()
	if err != nil {
		return nil, err
	}
	return api.SharesOf(files), nil
}

// humanBytes formats n with a binary unit: 1.5 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
