package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/web"
)

// webBackend is what the phone page needs from the node.
type webBackend struct{ d *Daemon }

var _ web.Backend = webBackend{}

// Search implements web.Backend: the same path as `servent search`.
func (b webBackend) Search(ctx context.Context, req api.SearchRequest, fn func(api.Result)) api.SearchDone {
	return b.d.searcher.search(ctx, req, fn)
}

// Fetch implements web.Backend: the file, verified, in the data dir's web
// cache under its hash (downloaded first unless it is there already).
func (b webBackend) Fetch(ctx context.Context, req api.GetRequest) (string, error) {
	return b.d.fetcher.fetchCached(ctx, req)
}

// Peers implements web.Backend.
func (b webBackend) Peers() []api.Peer { return b.d.Peers() }

// Browse implements web.Backend: the same path as `servent browse`.
func (b webBackend) Browse(ctx context.Context, peer, folder string) (api.Listing, error) {
	return b.d.browser.browse(ctx, peer, folder)
}

// Rescan implements web.Backend: an upload landed in the drop folder.
func (b webBackend) Rescan() { b.d.rescanSoon() }

// webDropDir is where phone uploads land: inside the always-shared folder.
func webDropDir(dataDir string) string { return filepath.Join(sharedDownloadsDir(dataDir), "uploads") }

// webPassphraseFile holds the phone page's passphrase inside the data dir.
const webPassphraseFile = "web-passphrase"

// webPassphrase returns the phone page's passphrase on a keyed network:
// the one saved in the data dir, or a new random one saved there (mode
// 0600), so a printed QR code outlives restarts; delete the file for a new
// one. It is never the drill key, which must not cross the LAN in clear
// HTTP. An open network has none ("").
func (d *Daemon) webPassphrase() (string, error) {
	key, err := drillKey(d.cfg.KeyFile, d.cfg.Key)
	if err != nil || key == "" {
		return "", err
	}
	path := filepath.Join(d.cfg.Data, webPassphraseFile)
	if b, err := os.ReadFile(path); err == nil {
		pass := strings.TrimSpace(string(b))
		if pass == key {
			return "", fmt.Errorf("%s holds the drill key: the page is plain HTTP, anyone on the network could read it there; delete the file for a random passphrase", path)
		}
		if pass != "" {
			return pass, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("web passphrase: %w", err)
	}
	pass, err := web.NewPassphrase()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(pass+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("web passphrase: %w", err)
	}
	return pass, nil
}

// startWeb serves the phone page on web_listen and prints its addresses,
// its passphrase and a QR code of its login link.
func (d *Daemon) startWeb(ctx context.Context) error {
	pass, err := d.webPassphrase()
	if err != nil {
		return err
	}
	d.fetcher.cache.prune("") // web_cache_mib may have been lowered
	wc := web.Config{
		Listen:      d.cfg.WebListen,
		Passphrase:  pass,
		UploadQuota: int64(d.cfg.WebUploadQuotaMiB) << 20,
		ZipMaxBytes: int64(d.cfg.WebZipMiB) << 20,
		NodeName:    d.ov.Name(),
		Kit:         d.kit,
		Logger:      d.log,
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
