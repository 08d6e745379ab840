package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
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
			fmt.Fprintln(tw, "NAME\tADDRESS\tROLE\tSTATE\tFILES\tATTACHED TO")
			for _, p := range peers {
				name := p.Name
				if p.Self {
					name += " (this node)"
				}
				addr := p.Addr
				if addr == "" {
					addr = "no path yet (tries " + strings.Join(p.Candidates, " ") + ")"
				}
				attached := strings.Join(p.AttachedTo, ",")
				if attached == "" {
					attached = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", name, addr, p.Role, p.State, p.Shares, attached)
			}
			return tw.Flush()
		},
	}
	cf.register(cmd)
	return cmd
}
