package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/daemon"
	"github.com/servent-p2p/servent/kit"
	"github.com/servent-p2p/servent/storage"
)

func newRunCmd() *cobra.Command {
	var configFile string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the servent daemon: share folders, join the LAN network, answer searches",
		Example: `  servent run --share ~/Public
  servent run --share /srv/maps --share /srv/docs --key-file drill.key
  servent run --data /tmp/s2 --listen 127.0.0.2:6346 --seed 127.0.0.1:6346
  servent run --share ~/Public --web        # and a page for phones on port 8080`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f := cmd.Flags(); f.Changed("web") {
				if err := f.Set("web-listen", f.Lookup("web").Value.String()); err != nil {
					return err
				}
			}
			warnUnknownEnv(cmd.ErrOrStderr(), os.Environ())
			cfg, err := configs.Load(configFile, cmd.Flags())
			if err != nil {
				return err
			}
			return runDaemon(cmd, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "config file (YAML; every key in configs/servent.yaml)")
	f.String("data", "", "data dir for catalog, identity and state (default "+configs.DefaultDataDir()+")")
	f.StringArray("share", nil, "folder to share (repeatable), e.g. your Public folder "+configs.PublicDir())
	f.String("kit", "", "drill kit folder to offer (default DATA_DIR/kit when it exists)")
	f.String("listen", "", "UDP IP:PORT of the node's one port (default [::]:6346, IPv4 and IPv6)")
	f.String("advertise", "", "an extra address (IP) for others to try, for routed or NATed networks")
	f.StringArray("seed", nil, "peer IP:PORT to join (repeatable; usually not needed on a LAN)")
	f.String("role", "", "auto, leaf or ultrapeer (default auto)")
	f.String("name", "", "node name shown to others (default hostname + key fingerprint)")
	f.String("key", "", "drill passphrase (visible in ps: prefer --key-file or SERVENT_KEY)")
	f.String("key-file", "", "file holding the drill passphrase")
	f.String("routing", "", "smart (ultrapeers) or flood (Gnutella 0.4); the same on every node")
	f.String("log-level", "", "debug, info, warn or error")
	f.String("web-listen", "", "serve the phone web page on this IP:PORT (TCP, on the LAN)")
	f.String("web", "", "serve the phone web page: --web alone listens on "+defaultWebListen+", or --web=IP:PORT")
	f.Lookup("web").NoOptDefVal = defaultWebListen
	f.String("metrics-listen", "", "serve Prometheus /metrics on this loopback IP:PORT")
	return cmd
}

// warnUnknownEnv names every SERVENT_* variable that is no configuration
// key: Load ignores it, and a misspelt key would otherwise go unnoticed.
func warnUnknownEnv(w io.Writer, environ []string) {
	for _, name := range configs.UnknownEnv(environ) {
		fmt.Fprintf(w, "servent: warning: %s is not a configuration key, ignored (SERVENT_<KEY> for a key of configs/servent.yaml, e.g. SERVENT_SHARES)\n", name)
	}
}

// defaultWebListen is where `servent run --web` serves the phone page.
const defaultWebListen = "0.0.0.0:8080"

func runDaemon(cmd *cobra.Command, cfg configs.Config) error {
	tuneGC(os.Getenv("GOGC"))
	logger := newLogger(cfg.LogLevel)
	ctx, stop := signalContext()
	defer stop()

	d, err := daemon.New(cfg, logger, version)
	if err != nil {
		if errors.Is(err, storage.ErrLocked) {
			return &exitError{code: 2, err: fmt.Errorf("%w; stop it first, or give this one its own --data DIR", err)}
		}
		return err
	}
	if cfg.OfferSelf {
		offerSelf(logger, cfg)
	}
	if err := d.Start(ctx); err != nil {
		return errors.Join(err, closeWithin(d, shutdownTimeout))
	}
	<-ctx.Done()
	stop() // a second Ctrl-C or SIGTERM ends the process at once
	logger.Info("stopping: leaving the network")
	return closeWithin(d, shutdownTimeout)
}

// shutdownTimeout bounds how long `servent run` takes to stop: leaving the
// network takes up to 2 s, closing the catalog up to
// storage.DefaultCloseTimeout (badger retries a failing write forever).
const shutdownTimeout = 30 * time.Second

// closeWithin closes d, or gives up after limit with an error that says so
// (the process then exits without waiting for it).
func closeWithin(d *daemon.Daemon, limit time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- d.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		return fmt.Errorf("stopping took longer than %v (is the data dir's disk gone or failing?); exiting without a clean shutdown", limit)
	}
}

// offerSelf places this binary in DATA_DIR/kit, unless a kit there (listed
// in its SHA256SUMS) or the kit key's has one for this platform: every node offers servent for its
// own platform to peers and to the phone page. Failing that only costs the
// offer, so it is logged, not fatal.
func offerSelf(logger *slog.Logger, cfg configs.Config) {
	exe, err := os.Executable()
	if err == nil {
		_, err = kit.PlaceSelf(daemon.KitDir(cfg.Data), exe, kit.Own(), cfg.Kit)
	}
	if err != nil {
		logger.Warn("not offering this servent binary to others", "err", err)
	}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
