package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/internal/names"
)

func newBrowseCmd() *cobra.Command {
	var (
		cf    clientFlags
		depth int
	)
	cmd := &cobra.Command{
		Use:   "browse [flags] PEER [FOLDER]",
		Short: "List what a peer shares, as a tree (Browse Host)",
		Long: `List the files a peer shares, as a tree of folders (Gnutella's Browse Host).
Name the peer as "servent peers" shows it: its name, the start of its name,
or the start of its key. FOLDER narrows the tree to one folder. Download a
whole folder, with its structure, with "servent get PEER:FOLDER". With a
drill key only members can browse.`,
		Example: `  servent browse alice
  servent browse --depth 1 alice maps
  servent get alice:maps/tiles`,
		Args: usageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, _, err := cf.client(cmd)
			if err != nil {
				return err
			}
			req := api.BrowseRequest{Peer: args[0]}
			if len(args) > 1 {
				req.Folder = args[1]
			}
			l, err := client.Browse(cmd.Context(), req)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), l)
			}
			printTree(cmd.OutOrStdout(), l, depth)
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().IntVar(&depth, "depth", 0, "show folders this deep, summarising deeper ones (0: everything)")
	return cmd
}

// dirNode is one folder of a listing's tree.
type dirNode struct {
	dirs  map[string]*dirNode
	files []api.ListedFile
	count int   // files below, at any depth
	bytes int64 // their size
}

// treeOf builds the folder tree of a listing, relative to its folder.
func treeOf(l api.Listing) *dirNode {
	root := &dirNode{dirs: map[string]*dirNode{}}
	prefix := ""
	if l.Folder != "" {
		prefix = l.Folder + "/"
	}
	for _, f := range l.Files {
		parts := strings.Split(strings.TrimPrefix(f.Path, prefix), "/")
		n := root
		for _, dir := range parts[:len(parts)-1] {
			n.count++
			n.bytes += f.Size
			next, ok := n.dirs[dir]
			if !ok {
				next = &dirNode{dirs: map[string]*dirNode{}}
				n.dirs[dir] = next
			}
			n = next
		}
		n.count++
		n.bytes += f.Size
		f.Path = parts[len(parts)-1]
		n.files = append(n.files, f)
	}
	return root
}

// printTree prints a listing as an indented tree, folders first, every
// name through names.Display; folders deeper than depth (when > 0) show
// only their totals.
func printTree(w io.Writer, l api.Listing, depth int) {
	root := treeOf(l)
	peer := names.Display(l.Peer.Name)
	where := ""
	if l.Folder != "" {
		where = " in " + names.Display(l.Folder)
	}
	fp := l.Peer.Fingerprint
	if len(fp) > 8 {
		fp = fp[:8]
	}
	fmt.Fprintf(w, "%s (key %s)%s: %d files, %s\n", peer, fp, where, root.count, humanBytes(root.bytes))
	var walk func(n *dirNode, indent string, level int)
	walk = func(n *dirNode, indent string, level int) {
		for _, name := range slices.Sorted(maps.Keys(n.dirs)) {
			d := n.dirs[name]
			fmt.Fprintf(w, "%s%s/  (%d files, %s)\n", indent, names.Display(name), d.count, humanBytes(d.bytes))
			if depth <= 0 || level < depth {
				walk(d, indent+"  ", level+1)
			}
		}
		slices.SortFunc(n.files, func(a, b api.ListedFile) int { return strings.Compare(a.Path, b.Path) })
		for _, f := range n.files {
			fmt.Fprintf(w, "%s%s  %s\n", indent, names.Display(f.Path), humanBytes(f.Size))
		}
	}
	walk(root, "  ", 1)
	if len(root.dirs) > 0 {
		first := slices.Sorted(maps.Keys(root.dirs))[0]
		if l.Folder != "" {
			first = l.Folder + "/" + first
		}
		fmt.Fprintf(w, "Download a folder with its structure: servent get %s:%s\n", peer, names.Display(first))
	}
}
