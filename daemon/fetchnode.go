package daemon

import (
	"context"
	"crypto/tls"
	"io"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/transfer"
)

// startTransfer builds what serves and fetches files and listings: the
// HTTP/3 file server, the downloader and the fetcher that drives it, and
// the browser.
func (d *Daemon) startTransfer() error {
	var err error
	sw := d.newSwarm()
	d.swarm = sw
	d.server, err = transfer.NewServer(transfer.ServerConfig{
		Catalog:    d.store,
		MaxUploads: d.cfg.MaxUploads,
		OnStale:    func(transfer.File) { d.rescanSoon() },
		Swarm:      sw,
		Logger:     d.log,
	})
	if err != nil {
		return err
	}
	dl, err := transfer.NewDownloader(transfer.Config{
		State: d.store,
		Dial: func(ctx context.Context, addr netip.AddrPort, conf *tls.Config, qc *quic.Config) (*quic.Conn, error) {
			return d.ov.DialTLS(ctx, addr, conf, qc)
		},
		TLSConfig: func(s transfer.Source) *tls.Config {
			conf := d.ov.ClientTLS(overlay.Fingerprint(s.Fingerprint))
			conf.NextProtos = []string{transfer.ALPN}
			return conf
		},
		Swarm:       sw,
		Resolve:     d.memberSource,
		PartialWait: d.cfg.PartialWait,
		Logger:      d.log,
	})
	if err != nil {
		return err
	}
	d.fetcher = d.newFetcher(dl)
	d.browser = newBrowser(d.ov, d.sharedEntries, d.log)
	return nil
}

// newFetcher connects a fetcher to the node, downloading with getter.
func (d *Daemon) newFetcher(getter fileGetter) *fetcher {
	return &fetcher{
		sources:  d.searcher,
		getter:   getter,
		net:      fetchNode{d},
		cache:    &webCache{dir: filepath.Join(d.cfg.Data, "web-cache"), max: int64(d.cfg.WebCacheMiB) << 20, log: d.log},
		shareDir: sharedDownloadsDir(d.cfg.Data),
		rescan:   d.rescanSoon,
		log:      d.log,
	}
}

// serveH3Conn hands an "h3" connection to the file server.
func (d *Daemon) serveH3Conn(conn *quic.Conn) {
	if err := d.server.ServeQUICConn(conn); err != nil && d.ctx.Err() == nil {
		d.log.Debug("h3 connection", "err", err)
	}
}

// rescanSoon asks the catalog watcher for a rescan (a served file changed,
// a download was shared). It does not block.
func (d *Daemon) rescanSoon() {
	select {
	case d.rescan <- struct{}{}:
	default:
	}
}

// fetchNode is the node as its fetcher sees it (fetchNet).
type fetchNode struct{ d *Daemon }

var _ fetchNet = fetchNode{}

// browse implements fetchNet.
func (n fetchNode) browse(ctx context.Context, peer, folder string) (api.Listing, error) {
	return n.d.browser.browse(ctx, peer, folder)
}

// openLocal implements fetchNet: the shared file with content hash h, or
// else the kit binary with that hash.
func (n fetchNode) openLocal(h content.Hash) (io.ReadCloser, int64, string, error) {
	d := n.d
	f, err := d.store.FileByHash(h)
	if err == nil {
		in, err := d.store.OpenFile(f)
		return in, f.Size, f.Path, err
	}
	for _, b := range d.kit {
		if b.BLAKE3 != h.String() {
			continue
		}
		for _, dir := range d.kitDirs {
			p := filepath.Join(dir, b.Name)
			if in, oerr := os.Open(p); oerr == nil {
				return in, b.Size, p, nil
			}
		}
	}
	return nil, 0, "", err
}
