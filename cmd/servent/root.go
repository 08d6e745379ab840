package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/configs"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks wrong command-line use (exit status 2).
var errUsage = errors.New("usage")

// clientFlags are the flags every client subcommand shares.
type clientFlags struct {
	config string
	data   string
	json   bool
}

func (f *clientFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "config", "", "config file (YAML; see configs/servent.yaml)")
	cmd.Flags().StringVar(&f.data, "data", "", "data dir of the daemon to talk to (env SERVENT_DATA)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print one JSON object per line")
}

// load resolves the configuration the same way `servent run` does, so
// `--data`, SERVENT_DATA and the config file pick the same daemon. Only
// --data is a config flag here: other client flags (get's --share) are
// the command's own.
func (f *clientFlags) load(cmd *cobra.Command) (configs.Config, error) {
	fs := pflag.NewFlagSet(cmd.Name(), pflag.ContinueOnError)
	fs.AddFlag(cmd.Flags().Lookup("data"))
	return configs.Load(f.config, fs)
}

func (f *clientFlags) client(cmd *cobra.Command) (*api.Client, configs.Config, error) {
	cfg, err := f.load(cmd)
	if err != nil {
		return nil, cfg, err
	}
	return api.NewClient(cfg.Data), cfg, nil
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "servent",
		Short: "Share folders on a LAN with no internet: search everyone's shares, download directly",
		Long: `servent is a peer-to-peer file-sharing servent for LANs without internet.

Every host runs "servent run --share DIR"; hosts find each other on the LAN by
themselves. Then search every shared folder with "servent search WORDS" and
download with "servent get N" (N: a result of the last search) or a hash.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w: %v (see `%s --help`)", errUsage, err, cmd.CommandPath())
	})
	root.AddCommand(newRunCmd(), newKitCmd(), newSharesCmd(), newStatusCmd(), newPeersCmd(),
		newSearchCmd(), newBrowseCmd(), newGetCmd(), newBenchCmd(), newKeyCmd(), newVersionCmd())
	return root
}

// usageArgs wraps a cobra argument check into an exit status 2 error that says what to do.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return fmt.Errorf("%w: %v; usage: %s", errUsage, err, cmd.UseLine())
		}
		return nil
	}
}

func printJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

func stdoutIsTerminal() bool {
	st, err := os.Stdout.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// signalContext is cancelled by SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
