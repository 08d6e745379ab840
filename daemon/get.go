package daemon

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/internal/names"
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/storage"
	"github.com/servent-p2p/servent/transfer"
)

// sourceSearchTimeout bounds the hash search that finds sources for a get.
const sourceSearchTimeout = 3 * time.Second

// sharedDownloadsDir is the folder (inside the data dir, always shared)
// where `servent get --share` links finished files.
func sharedDownloadsDir(dataDir string) string { return filepath.Join(dataDir, "shared") }

// startTransfer builds the HTTP/3 file server and the downloader.
func (d *Daemon) startTransfer() error {
	var err error
	sw := d.newSwarm()
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
	d.downloader, err = transfer.NewDownloader(transfer.Config{
		State: d.store,
		Dial: func(ctx context.Context, addr netip.AddrPort, conf *tls.Config, qc *quic.Config) (*quic.Conn, error) {
			return d.ov.DialTLS(ctx, addr, conf, qc)
		},
		TLSConfig: func(s transfer.Source) *tls.Config {
			conf := d.ov.ClientTLS(overlay.Fingerprint(s.Fingerprint))
			conf.NextProtos = []string{transfer.ALPN}
			return conf
		},
		Swarm:   sw,
		Resolve: d.memberSource,
		Logger:  d.log,
	})
	return err
}

// serveH3Conn hands an "h3" connection to the file server.
func (d *Daemon) serveH3Conn(conn *quic.Conn) {
	if err := d.server.ServeQUICConn(conn); err != nil && d.ctx.Err() == nil {
		d.log.Debug("h3 connection", "err", err)
	}
}

// rescanSoon asks the catalog watcher for a rescan (a served file changed,
// a download was shared).
func (d *Daemon) rescanSoon() {
	select {
	case d.rescan <- struct{}{}:
	default:
	}
}

// sourcesOf converts API sources, skipping malformed ones.
func sourcesOf(in []api.Source) []transfer.Source {
	var out []transfer.Source
	for _, s := range in {
		ap, err := netip.ParseAddrPort(s.Addr)
		if err != nil {
			continue
		}
		src := transfer.Source{Name: s.Name, Addr: ap}
		if fp, err := hex.DecodeString(s.Fingerprint); err == nil && len(fp) == len(src.Fingerprint) {
			copy(src.Fingerprint[:], fp)
		}
		out = append(out, src)
	}
	return out
}

// findSources runs a search by hash and returns every peer that answered
// with that hash (a hit for another one is ignored).
func (d *Daemon) findSources(ctx context.Context, h storage.Hash) (api.Result, []api.Source) {
	var res api.Result
	d.searcher.search(ctx, api.SearchRequest{Hash: h.String(), Timeout: sourceSearchTimeout}, func(r api.Result) {
		if r.Hash == h.String() {
			res = r
		}
	})
	return res, res.Sources
}

// download fetches the file req names into req.OutDir: from req.Sources,
// or from the peers a hash search finds (also when the given sources are
// gone). progress, if not nil, is called as verified bytes arrive. Blocks.
func (d *Daemon) download(ctx context.Context, req api.GetRequest, progress func(transfer.Progress)) (transfer.Result, error) {
	h, err := storage.ParseHash(req.Hash)
	if err != nil {
		return transfer.Result{}, err
	}
	sources := req.Sources
	var found api.Result
	if len(sources) == 0 {
		found, sources = d.findSources(ctx, h)
	}
	name := names.Base(req.Name) // names come from the network: made safe here
	if name == "" {
		name = names.Base(found.Name)
	}
	if name == "" {
		name = h.String()
	}
	get := func(sources []api.Source) (transfer.Result, error) {
		return d.downloader.Get(ctx, transfer.Request{
			Hash:     h, // the size comes from the verified outboard, never from a hit
			Name:     name,
			OutDir:   req.OutDir,
			Sources:  d.dialable(sourcesOf(sources)),
			Progress: progress,
		})
	}
	res, err := transfer.Result{}, error(transfer.ErrNoSources)
	if len(sources) > 0 {
		res, err = get(sources)
	}
	if errors.Is(err, transfer.ErrNoSources) && len(req.Sources) > 0 {
		// The sources of the last search are gone: ask the network again.
		if _, fresh := d.findSources(ctx, h); len(fresh) > 0 {
			res, err = get(fresh)
		}
	}
	if errors.Is(err, transfer.ErrNoSources) {
		err = fmt.Errorf("no peer can serve %s now (%w); any partial file is kept: run the same command again to resume", h, err)
	}
	return res, err
}

// getDone runs the download req names and builds its final record
// (sharing the file when asked). Blocks.
func (d *Daemon) getDone(ctx context.Context, req api.GetRequest, progress func(api.Progress)) (*api.GetDone, error) {
	started := time.Now()
	res, err := d.download(ctx, req, func(p transfer.Progress) { progress(api.ProgressOf(p)) })
	if err != nil {
		return nil, err
	}
	done := &api.GetDone{
		Path:    res.Path,
		Size:    res.Size,
		Hash:    res.Hash.String(),
		Seconds: time.Since(started).Seconds(),
		Sources: map[string]int64{},
		Renamed: res.Renamed,
		Resumed: res.ChunksResumed > 0,
		Liars:   res.Liars,
	}
	for _, s := range res.Sources {
		if s.Bytes > 0 {
			done.Sources[s.Name] = s.Bytes
		}
	}
	if req.Share {
		if err := d.shareDownload(res.Path); err != nil {
			d.log.Warn("sharing the download", "err", err)
		} else {
			done.Shared = true
		}
	}
	return done, nil
}

// shareDownload links a finished download into the always-shared folder of
// the data dir (a copy when a link is impossible), then rescans.
func (d *Daemon) shareDownload(path string) error {
	dir := sharedDownloadsDir(d.cfg.Data)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(dir, filepath.Base(path))
	if _, err := os.Lstat(dst); err == nil {
		return nil // already shared under that name
	}
	if err := os.Link(path, dst); err != nil {
		if err := copyFile(path, dst); err != nil {
			return err
		}
	}
	d.rescanSoon()
	return nil
}

// copyFile copies src to a new file dst (never overwriting), synced.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}
