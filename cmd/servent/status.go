package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/internal/names"
)

func newStatusCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show this node's role, members, attachments and counters",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, _, err := cf.client(cmd)
			if err != nil {
				return err
			}
			s, err := client.Status(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if cf.json {
				return printJSON(out, s)
			}
			tw := newTable(out)
			for _, r := range statusRows(s) {
				fmt.Fprintf(tw, "%s:\t%s\n", r[0], names.Display(r[1])) // peer names come from the network
			}
			return tw.Flush()
		},
	}
	cf.register(cmd)
	return cmd
}

// statusRows are the lines `servent status` prints, label and value.
func statusRows(s api.Status) [][2]string {
	network := "open (no drill key: anyone on the LAN can join)"
	if !s.Open {
		network = "closed (drill key required)"
	}
	rows := [][2]string{
		{"name", s.Name},
		{"version", s.Version},
		{"role", s.Role + " (" + s.Routing + " routing)"},
		{"listen", s.Listen + " (UDP)"},
		{"addresses", list(s.Addresses)},
		{"network", network},
		{"fingerprint", s.Fingerprint},
		{"uptime", s.Uptime.Round(time.Second).String()},
		{"members", fmt.Sprint(s.Members)},
		{"ultrapeers", list(s.Ultrapeers)},
	}
	if len(s.AttachedTo) > 0 || s.Role == "leaf" {
		rows = append(rows, [2]string{"attached to", list(s.AttachedTo)})
	}
	if s.Role == "ultrapeer" {
		rows = append(rows, [2]string{"leaves", list(s.Leaves)}, [2]string{"mesh", list(s.Mesh)})
	}
	scanning := ""
	if s.Scanning {
		scanning = " (scanning)"
	}
	rows = append(rows,
		[2]string{"shares", fmt.Sprintf("%d files, %s%s", s.Shares, humanBytes(s.SharedBytes), scanning)},
		[2]string{"datagrams", fmt.Sprintf("in %d, out %d, dropped %d, malformed %d",
			s.Datagrams.In, s.Datagrams.Out, s.Datagrams.Dropped, s.Datagrams.Malformed)},
	)
	if s.JoinedVia != "" {
		rows = append(rows, [2]string{"joined via", s.JoinedVia})
	}
	return rows
}

func list(items []string) string {
	if len(items) == 0 {
		return "-"
	}
	return fmt.Sprintf("%d: %s", len(items), strings.Join(items, ", "))
}
