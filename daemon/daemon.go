package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/kit"
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
	"github.com/servent-p2p/servent/storage"
	"github.com/servent-p2p/servent/transfer"
	"github.com/servent-p2p/servent/ultrapeer"
	"github.com/servent-p2p/servent/web"
)

// Daemon is one running servent node. Its methods are safe for concurrent use.
type Daemon struct {
	cfg     configs.Config
	log     *slog.Logger
	version string
	started time.Time

	store *storage.Store
	ov    *overlay.Node

	kitDirs []string     // drill kit folders, scanned with the shares
	kit     []kit.Binary // the servent binaries in them

	routerMu sync.Mutex // serialises the routing core; use withRouter
	router   *query.Router

	registry    *ultrapeer.Registry // own shares, and leaves' on an ultrapeer
	selfVersion uint64              // version of the own entry in registry; hierarchy loop only
	indexes     *indexServer        // set by startNetwork
	leaves      *leafAttacher       // set by startNetwork
	qrp         *qrpLinks           // set by startNetwork
	searches    searches            // routes the routing core's deliveries to searcher's searches
	searcher    *searcher           // runs the searches of the CLI, the page and downloads

	topoMu  sync.Mutex
	topo    topology
	planner *ultrapeer.Planner // plans every view the hierarchy loop sees

	catalogDirty chan struct{} // the catalog changed: re-index and tell ultrapeers
	// partialsPending: a re-index for the downloads in progress is due
	// (partialsChanged).
	partialsPending atomic.Bool
	kick            chan struct{} // recompute the topology now
	rescan          chan struct{} // rescan the shares now
	dynWake         chan struct{} // a dynamic query may have started: see dynamicLoop
	// noAnswerMarks (tests only) makes searches ask for no answer marks, as
	// on a network of more than query.MaxAnswering ultrapeers, so that the
	// ultrapeers query dynamically.
	noAnswerMarks bool

	metrics     *http.Server // nil unless metrics_listen is set
	metricsAddr string       // where metrics listens
	web         *web.Server  // nil unless web_listen is set
	server      *transfer.Server
	fetcher     *fetcher        // runs downloads; set with server
	swarm       *transfer.Swarm // shared by server and downloader; nil with swarm off
	browser     *browser        // browse requests, both ways; set with server

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	control *controlServer

	scanning  atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// New opens the data directory (creating it) and the catalog. It fails with
// an error wrapping storage.ErrLocked when another servent uses the data dir.
func New(cfg configs.Config, log *slog.Logger, version string) (*Daemon, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	// It holds the node's private key: an existing dir is closed too.
	if err := os.Chmod(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(sharedDownloadsDir(cfg.Data), 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	store, err := storage.Open(CatalogDir(cfg.Data), storage.Options{Logger: log})
	if errors.Is(err, storage.ErrLocked) {
		return nil, fmt.Errorf("another servent is using data dir %s: %w", cfg.Data, storage.ErrLocked)
	}
	if err != nil {
		return nil, err
	}
	d := &Daemon{
		cfg:          cfg,
		log:          log,
		version:      version,
		store:        store,
		registry:     ultrapeer.NewRegistry(cfg.MaxLeaves),
		planner:      ultrapeer.NewPlanner(planConfig(cfg)),
		catalogDirty: make(chan struct{}, 1),
		kick:         make(chan struct{}, 1),
		rescan:       make(chan struct{}, 1),
		dynWake:      make(chan struct{}, 1),
	}
	d.searcher = newSearcher(searchNode{d}, &d.searches)
	return d, nil
}

// CatalogDir is where the badger catalog lives inside a data dir.
func CatalogDir(dataDir string) string { return filepath.Join(dataDir, "db") }

// Start scans the shares, joins the network and serves the control API. It
// returns once everything is listening; the work goes on in the background
// until Close.
func (d *Daemon) Start(ctx context.Context) error {
	d.started = time.Now()
	d.ctx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := d.loadKit(); err != nil {
		return err
	}
	if err := d.startNetwork(ctx); err != nil {
		return err
	}
	// The control API answers from the network's state: it starts last.
	var err error
	if d.cfg.MetricsListen != "" {
		if d.metrics, err = d.startMetrics(); err != nil {
			return fmt.Errorf("metrics_listen: %w", err)
		}
	}
	if d.cfg.WebListen != "" {
		if err := d.startWeb(d.ctx); err != nil {
			return fmt.Errorf("web_listen: %w", err)
		}
	}
	if d.control, err = startControl(d.cfg.Data, controlNode{d}, d.log); err != nil {
		return err
	}
	d.goFunc(func() { d.store.RunGC(d.ctx, 5*time.Minute) })
	d.goFunc(d.keepCatalog)
	if len(d.cfg.Shares) == 0 {
		d.log.Warn("sharing nothing: add folders with --share DIR", "public_folder", configs.PublicDir())
	}
	return nil
}

// Close leaves the network, stops every goroutine and closes the catalog.
// It is safe to call more than once.
func (d *Daemon) Close() error {
	d.closeOnce.Do(func() {
		if d.cancel != nil {
			d.cancel()
		}
		var errs []error
		if d.control != nil {
			errs = append(errs, d.control.close())
		}
		if d.metrics != nil {
			errs = append(errs, d.metrics.Close())
		}
		if d.web != nil {
			errs = append(errs, d.web.Close())
		}
		if d.ov != nil {
			d.savePeers()
			if err := d.ov.Leave(2 * time.Second); err != nil {
				d.log.Debug("leave", "err", err)
			}
			errs = append(errs, d.ov.Close())
		}
		if d.server != nil {
			errs = append(errs, d.server.Close())
		}
		d.wg.Wait()
		errs = append(errs, d.store.Close())
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}

// withRouter runs fn with exclusive use of the routing core.
func (d *Daemon) withRouter(fn func(r *query.Router)) {
	d.routerMu.Lock()
	defer d.routerMu.Unlock()
	fn(d.router)
}

// goFunc runs fn in a goroutine that Close waits for.
func (d *Daemon) goFunc(fn func()) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		fn()
	}()
}

// keepCatalog runs the first scan, then keeps the catalog current.
func (d *Daemon) keepCatalog() {
	var lastLog time.Time
	opts := storage.ScanOptions{
		Exclude: []string{CatalogDir(d.cfg.Data)},
		Logger:  d.log,
		Progress: func(p storage.ScanProgress) {
			if time.Since(lastLog) >= 3*time.Second && !p.Done {
				lastLog = time.Now()
				d.log.Info("scanning shares", "seen", p.Seen, "to_hash", p.Queued, "hashed", p.Hashed, "mib", p.Bytes>>20)
			}
		},
	}
	d.scanning.Store(true)
	roots := append(append([]string{sharedDownloadsDir(d.cfg.Data)}, d.cfg.Shares...), d.kitDirs...)
	st, err := d.store.Scan(d.ctx, roots, opts)
	d.scanning.Store(false)
	if err != nil && d.ctx.Err() == nil {
		d.log.Error("scanning shares", "err", err)
	}
	d.log.Info("shares indexed", "files", st.Files, "hashed", st.Hashed, "unchanged", st.Unchanged, "removed", st.Removed, "skipped", st.Skipped)
	d.catalogChanged()
	opts.Progress = nil
	d.store.Watch(d.ctx, roots, opts, d.cfg.RescanInterval, d.rescan, func(storage.ScanStats) { d.catalogChanged() })
}

// catalogChanged is called after every change of the local catalog.
func (d *Daemon) catalogChanged() {
	select {
	case d.catalogDirty <- struct{}{}:
	default:
	}
}

// kickHierarchy asks the hierarchy loop to recompute the topology now.
func (d *Daemon) kickHierarchy() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// role is the node's current role.
func (d *Daemon) role() role.Role {
	d.topoMu.Lock()
	defer d.topoMu.Unlock()
	return d.topo.role
}
