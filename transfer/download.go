package transfer

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/content"
)

// Downloader fetches files by content hash from peers. It is safe for
// concurrent use; concurrent Gets of the same hash are not supported.
type Downloader struct {
	cfg   Config
	log   *slog.Logger
	conns connPool // one connection per source, shared by downloads
}

// NewDownloader returns a Downloader for cfg.
func NewDownloader(cfg Config) (*Downloader, error) {
	if cfg.State == nil {
		return nil, errors.New("transfer: downloader needs a state store")
	}
	if cfg.Dial == nil {
		cfg.Dial = func(ctx context.Context, addr netip.AddrPort, tlsConf *tls.Config, quicConf *quic.Config) (*quic.Conn, error) {
			return quic.DialAddr(ctx, addr.String(), tlsConf, quicConf)
		}
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = func(s Source) *tls.Config { return pinTLS(s.Fingerprint) }
	}
	if cfg.QUICConfig == nil {
		cfg.QUICConfig = dialQUIC()
	}
	if cfg.PerSource <= 0 {
		cfg.PerSource = DefaultPerSource
	}
	if cfg.ChunkTimeout <= 0 {
		cfg.ChunkTimeout = DefaultChunkTimeout
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = DefaultMaxFailures
	}
	if cfg.MaxSources <= 0 {
		cfg.MaxSources = DefaultMaxSources
	}
	if cfg.PartialWait == 0 {
		cfg.PartialWait = DefaultPartialWait
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Downloader{cfg: cfg, log: cfg.Logger.With("pkg", "transfer")}, nil
}

// Liveness of a transfer connection, chosen by its dialer (the idle
// timeout is the lesser of both sides'): the downloader pings a quiet
// connection every keepAlive, so a source hears from a live downloader at
// least that often while it waits for a request or a flow-control credit
// (see silentAfter), and either side drops a connection that went silent
// after idleTimeout. Other planes accepted on the same socket (datagram
// connections) keep the listener's longer timeout and no pings.
const (
	keepAlive   = 500 * time.Millisecond
	idleTimeout = 10 * time.Second
)

// dialQUIC is the default QUIC config of transfer connections: the
// liveness above and large flow-control windows for bulk transfer.
func dialQUIC() *quic.Config {
	return &quic.Config{
		MaxIdleTimeout:                 idleTimeout,
		KeepAlivePeriod:                keepAlive,
		InitialStreamReceiveWindow:     2 << 20,
		MaxStreamReceiveWindow:         16 << 20,
		InitialConnectionReceiveWindow: 8 << 20,
		MaxConnectionReceiveWindow:     64 << 20,
	}
}

// UDPAddr converts a netip.AddrPort for quic.Transport.Dial.
func UDPAddr(a netip.AddrPort) net.Addr { return net.UDPAddrFromAddrPort(a) }

// Get downloads req.Hash into req.OutDir. It blocks until the file is
// complete and verified, ctx is done, or no source can serve it. On every
// error the partial file and its state are kept, so a later Get resumes.
func (d *Downloader) Get(ctx context.Context, req Request) (Result, error) {
	start := time.Now()
	name, err := fileName(req)
	if err != nil {
		return Result{}, err
	}
	outDir, err := outputDir(req.OutDir)
	if err != nil {
		return Result{}, err
	}
	srcs := d.sources(req.Sources)
	set := newSourceSet(d, srcs)
	defer func() {
		for _, s := range set.all() {
			s.close()
		}
	}()

	dl, err := d.prepare(ctx, req, name, outDir, srcs)
	if err != nil {
		return d.result(req, srcs, start), err
	}
	p, err := openPartial(dl)
	if err != nil {
		return d.result(req, srcs, start), err
	}
	defer p.close()
	if err := d.cfg.State.PutDownload(*dl); err != nil {
		return d.result(req, srcs, start), fmt.Errorf("save download state: %w", err)
	}
	// While it runs, the download's verified chunks are served
	// (swarming); unserve runs before the partial file is closed.
	unserve := sync.OnceFunc(d.cfg.Swarm.add(dl, p, set.learn))
	defer unserve()

	res := d.result(req, srcs, start)
	res.Size = dl.Size
	res.ChunksResumed = countBits(dl.Verified, content.NumChunks(dl.Size))
	fetched, err := d.fetchAll(ctx, req, dl, p, set)
	res.ChunksFetched = fetched
	if err != nil {
		return d.finishResult(res, set.all(), start), err
	}
	final, renamed, err := d.complete(dl, p, outDir, name, unserve)
	if err != nil {
		return d.finishResult(res, set.all(), start), err
	}
	res = d.finishResult(res, set.all(), start)
	res.Path, res.Renamed = final, renamed
	if req.Progress != nil {
		req.Progress(Progress{Name: name, Hash: dl.Hash, Size: dl.Size, Done: dl.Size, Sources: len(res.Sources), Finished: true})
	}
	return res, nil
}

// outputDir returns the absolute path of the download's folder (dir, or
// the working directory when empty), which must exist.
func outputDir(dir string) (string, error) {
	outDir, err := filepath.Abs(cmp.Or(dir, "."))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if st, err := os.Stat(outDir); err != nil {
		return "", fmt.Errorf("output directory: %w", err)
	} else if !st.IsDir() {
		return "", fmt.Errorf("%w: %s is not a directory", ErrBadRequest, outDir)
	}
	return outDir, nil
}

// sources makes the download's sources, each named by its address when
// it has no name.
func (d *Downloader) sources(given []Source) []*source {
	srcs := make([]*source, len(given))
	for i, s := range given {
		srcs[i] = &source{Source: s, d: d}
		if srcs[i].Name == "" {
			srcs[i].Name = s.Addr.String()
		}
	}
	return srcs
}

// complete puts a download whose every chunk is verified in place. Each
// chunk was checked against the content hash's tree once, when it arrived
// (this run) or read back from disk (carried over), so what is left is to
// make the file durable, stop serving the partial file (unserve), rename
// it to its final name, forget the download's state and serve the
// finished file for a while.
func (d *Downloader) complete(dl *Download, p *partial, outDir, name string, unserve func()) (final string, renamed bool, err error) {
	if err := p.sync(); err != nil {
		return "", false, err
	}
	unserve()
	final, renamed, err = p.place(outDir, name)
	if err != nil {
		return "", false, err
	}
	if err := d.cfg.State.DeleteDownload(dl.Hash); err != nil {
		d.log.Warn("delete download state", "hash", dl.Hash, "err", err)
	}
	d.cfg.Swarm.lingerOn(dl, final)
	return final, renamed, nil
}

// fileName validates the requested name: a plain base name.
func fileName(req Request) (string, error) {
	if req.Hash.IsZero() {
		return "", fmt.Errorf("%w: no hash", ErrBadRequest)
	}
	if len(req.Sources) == 0 {
		return "", fmt.Errorf("%w: none given", ErrNoSources)
	}
	name := req.Name
	if name == "" {
		return req.Hash.String(), nil
	}
	if name == "." || name == ".." || strings.ContainsAny(name, `/\`+"\x00") || filepath.Base(name) != name {
		return "", fmt.Errorf("%w: file name %q", ErrBadRequest, name)
	}
	return name, nil
}

// prepare loads the saved state of this download, or fetches and checks
// the outboard from the first source that serves it.
func (d *Downloader) prepare(ctx context.Context, req Request, name, outDir string, srcs []*source) (*Download, error) {
	partPath := filepath.Join(outDir, name+"."+req.Hash.String()[:12]+".part")
	n := func(size int64) int { return content.NumChunks(size) }
	if dl, err := d.cfg.State.GetDownload(req.Hash); err == nil &&
		dl.OutDir == outDir && dl.PartPath == partPath && content.VerifyOutboard(req.Hash, dl.Outboard, dl.Size) &&
		(req.Size <= 0 || req.Size == dl.Size) {
		if len(dl.Verified) != (n(dl.Size)+7)/8 {
			dl.Verified = make([]byte, (n(dl.Size)+7)/8)
		}
		return &dl, nil
	}
	size := req.Size
	if size <= 0 {
		size = -1
	}
	var errs []error
	for _, s := range srcs {
		ob, obSize, err := s.outboard(ctx, req.Hash, size)
		if err == nil {
			return &Download{Hash: req.Hash, Size: obSize, Name: name, OutDir: outDir, PartPath: partPath,
				Outboard: ob, Verified: make([]byte, (n(obSize)+7)/8), Started: time.Now().UnixNano()}, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("download interrupted: %w", ctx.Err())
		}
		if errors.Is(err, errLiar) {
			s.liar.Store(true)
		}
		s.dropped, s.err = true, err
		errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
	}
	return nil, fmt.Errorf("%w: %w", ErrNoSources, errors.Join(errs...))
}

// result builds the part of a Result known before fetching.
func (d *Downloader) result(req Request, srcs []*source, start time.Time) Result {
	return d.finishResult(Result{Hash: req.Hash, Size: req.Size}, srcs, start)
}

// finishResult fills in per-source tallies and the duration.
func (d *Downloader) finishResult(res Result, srcs []*source, start time.Time) Result {
	res.Duration = time.Since(start)
	res.Sources, res.Liars = nil, nil
	for _, s := range srcs {
		u := SourceUse{Name: s.Name, Addr: s.Addr.String(), Bytes: s.bytes.Load(), Chunks: int(s.chunks.Load()), Liar: s.liar.Load(), Redials: s.redials()}
		if s.err != nil {
			u.Err = s.err.Error()
		}
		if u.Liar {
			res.Liars = append(res.Liars, s.Name)
		}
		res.Sources = append(res.Sources, u)
	}
	return res
}

// isNotWritable reports whether err means the directory cannot be written.
func isNotWritable(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, errReadOnlyFS)
}

func countBits(b []byte, n int) int {
	c := 0
	for i := range n {
		if bitSet(b, i) {
			c++
		}
	}
	return c
}
