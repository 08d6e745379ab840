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
	cfg Config
	log *slog.Logger
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
		cfg.QUICConfig = &quic.Config{
			MaxIdleTimeout:                 30 * time.Second,
			KeepAlivePeriod:                10 * time.Second,
			InitialStreamReceiveWindow:     2 << 20,
			MaxStreamReceiveWindow:         16 << 20,
			InitialConnectionReceiveWindow: 8 << 20,
			MaxConnectionReceiveWindow:     64 << 20,
		}
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
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Downloader{cfg: cfg, log: cfg.Logger.With("pkg", "transfer")}, nil
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
	outDir, err := filepath.Abs(cmp.Or(req.OutDir, "."))
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if st, err := os.Stat(outDir); err != nil {
		return Result{}, fmt.Errorf("output directory: %w", err)
	} else if !st.IsDir() {
		return Result{}, fmt.Errorf("%w: %s is not a directory", ErrBadRequest, outDir)
	}
	srcs := make([]*source, len(req.Sources))
	for i, s := range req.Sources {
		srcs[i] = &source{Source: s, d: d}
		if srcs[i].Name == "" {
			srcs[i].Name = s.Addr.String()
		}
	}
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
	// Verify once: every chunk was checked against the content hash's
	// tree when it arrived (this run) or read back from disk (carried
	// over); what is left is to make the file durable and rename it.
	if err := p.sync(); err != nil {
		return d.finishResult(res, set.all(), start), err
	}
	unserve()
	final, renamed, err := p.place(outDir, name)
	if err != nil {
		return d.finishResult(res, set.all(), start), err
	}
	if err := d.cfg.State.DeleteDownload(dl.Hash); err != nil {
		d.log.Warn("delete download state", "hash", dl.Hash, "err", err)
	}
	d.cfg.Swarm.lingerOn(dl, final)
	res = d.finishResult(res, set.all(), start)
	res.Path, res.Renamed = final, renamed
	if req.Progress != nil {
		req.Progress(Progress{Name: name, Hash: dl.Hash, Size: dl.Size, Done: dl.Size, Sources: len(res.Sources), Finished: true})
	}
	return res, nil
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

// fetchAll fetches every chunk not yet verified, from every live source
// at once, and returns how many chunks it verified and wrote.
func (d *Downloader) fetchAll(ctx context.Context, req Request, dl *Download, p *partial, set *sourceSet) (int, error) {
	n := content.NumChunks(dl.Size)
	if dl.Size == 0 { // one empty chunk: nothing to fetch
		if !content.VerifyChunk(dl.Hash, dl.Outboard, 0, nil) {
			return 0, fmt.Errorf("%w: empty file", ErrVerify)
		}
		p.markVerified(dl, 0)
		return 0, nil
	}
	srcs := set.all()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sc := newSchedule(runCtx, n, dl.Verified, srcs, d.cfg.Swarm != nil)
	if sc.remaining == 0 {
		return 0, nil
	}
	if sc.liveSources() == 0 {
		return 0, d.noSources(srcs)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex // guards fetched, done and Progress calls
		fetched int
		done    = int64(countBits(dl.Verified, n)) * content.ChunkSize
	)
	if done > dl.Size {
		done = dl.Size
	}
	report := func() { // with mu held
		if req.Progress != nil {
			req.Progress(Progress{Name: dl.Name, Hash: dl.Hash, Size: dl.Size, Done: done, Sources: sc.liveSources(), Queued: queuePlaces(set.all())})
		}
	}
	w := &worker{d: d, dl: dl, p: p, sc: sc}
	w.onChunk = func(c int, length int) {
		p.markVerified(dl, c)
		mu.Lock()
		defer mu.Unlock()
		fetched++
		done += int64(length)
		report()
	}
	w.onQueue = func() {
		mu.Lock()
		defer mu.Unlock()
		report()
	}
	if d.cfg.Swarm != nil {
		w.onAlts = func(keys []Key) { d.heardFrom(dl, keys) }
	}
	start := func(s *source) {
		for range d.cfg.PerSource {
			wg.Go(func() { w.run(runCtx, s) })
		}
	}
	for _, s := range srcs {
		if !s.dropped {
			start(s)
		}
	}
	if d.cfg.Swarm != nil {
		wg.Go(func() { set.meshLoop(sc, n, start) })
	}
	wg.Wait()
	fatal, remaining := sc.result()
	switch {
	case errors.Is(fatal, ErrNoSources):
		return fetched, d.noSources(set.all())
	case fatal != nil: // a claimed chunk may have failed to write
		return fetched, fatal
	case remaining == 0:
		return fetched, nil
	default:
		return fetched, fmt.Errorf("download interrupted, partial kept in %s: %w", dl.PartPath, ctx.Err())
	}
}

// queuePlaces lists this download's places in its sources' queues.
func queuePlaces(srcs []*source) []QueuePlace {
	var out []QueuePlace
	for _, s := range srcs {
		if q, ok := s.queuePlace(); ok {
			out = append(out, QueuePlace{Source: s.Name, Position: q.Position, Length: q.Length, Wait: q.ETA})
		}
	}
	return out
}

// noSources builds ErrNoSources with every source's reason.
func (d *Downloader) noSources(srcs []*source) error {
	var errs []error
	for _, s := range srcs {
		if s.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, s.err))
		}
	}
	return fmt.Errorf("%w (partial kept, rerun to resume): %w", ErrNoSources, errors.Join(errs...))
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
