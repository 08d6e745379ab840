package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/storage"
	"github.com/servent-p2p/servent/web"
)

// webBackend is what the phone page needs from the node.
type webBackend struct{ d *Daemon }

var _ web.Backend = webBackend{}

// Search implements web.Backend: the same path as `servent search`.
func (b webBackend) Search(ctx context.Context, req api.SearchRequest, fn func(api.Result)) api.SearchDone {
	return b.d.search(req, ctx.Done(), fn)
}

// Fetch implements web.Backend: the file, verified, in the data dir's web
// cache under its hash (downloaded first unless it is there already).
func (b webBackend) Fetch(ctx context.Context, req api.GetRequest) (string, error) {
	h, err := storage.ParseHash(req.Hash)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(b.d.cfg.Data, "web-cache")
	path := filepath.Join(dir, h.String())
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := b.d.cacheLocal(h, path); err == nil {
		return path, nil
	}
	req.OutDir, req.Name = dir, h.String()
	res, err := b.d.download(ctx, req, nil)
	if err != nil {
		return "", err
	}
	if res.Path != path {
		return "", fmt.Errorf("web cache: %s arrived as %s", path, res.Path)
	}
	return path, nil
}

// Peers implements web.Backend.
func (b webBackend) Peers() []api.Peer { return b.d.Peers() }

// Browse implements web.Backend: the same path as `servent browse`.
func (b webBackend) Browse(ctx context.Context, peer, folder string) (api.Listing, error) {
	return b.d.browse(ctx, peer, folder)
}

// Rescan implements web.Backend: an upload landed in the drop folder.
func (b webBackend) Rescan() { b.d.rescanSoon() }

// webDropDir is where phone uploads land: inside the always-shared folder.
func webDropDir(dataDir string) string { return filepath.Join(sharedDownloadsDir(dataDir), "uploads") }

// startWeb serves the phone page on web_listen and prints its addresses
// and a QR code.
func (d *Daemon) startWeb(ctx context.Context) error {
	wc := web.Config{
		Listen:     d.cfg.WebListen,
		Passphrase: d.drillPass,
		NodeName:   d.ov.Name(),
		Kit:        d.kit,
		Logger:     d.log,
	}
	if d.cfg.WebUpload {
		wc.DropDir = webDropDir(d.cfg.Data)
	}
	srv, err := web.New(wc, webBackend{d})
	if err != nil {
		return err
	}
	if _, err := srv.Start(ctx); err != nil {
		return errors.Join(err, srv.Close())
	}
	d.web = srv
	srv.PrintBanner(os.Stderr)
	return nil
}
