package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/servent-p2p/servent/internal/names"
)

func newPeersCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "List every member of the network with its address and role",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, _, err := cf.client(cmd)
			if err != nil {
				return err
			}
			peers, err := client.Peers(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if cf.json {
				for _, p := range peers {
					if err := printJSON(out, p); err != nil {
						return err
					}
				}
				return nil
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "NAME\tKEY\tADDRESS\tROLE\tSTATE\tFILES\tATTACHED TO")
			for _, p := range peers {
				name := names.Display(p.Name)
				if p.Self {
					name += " (this node)"
				}
				addr := p.Addr
				switch {
				case addr == "":
					addr = "not heard yet (tries " + strings.Join(p.Candidates, " ") + ")"
				case !p.Verified && !p.Self:
					addr += " (heard)"
				}
				attached := names.Display(strings.Join(p.AttachedTo, ","))
				if attached == "" {
					attached = "-"
				}
				key := p.Fingerprint
				if len(key) > 8 {
					key = key[:8] // enough to name it: servent browse KEY
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", name, key, addr, p.Role, p.State, p.Shares, attached)
			}
			return tw.Flush()
		},
	}
	cf.register(cmd)
	return cmd
}
