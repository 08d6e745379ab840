package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/content"
)

// fetchCached returns the path of the file req names, verified, in the
// phone page's cache under its hash: there already, copied from this
// node's own files, or else downloaded. Blocks.
func (f *fetcher) fetchCached(ctx context.Context, req api.GetRequest) (string, error) {
	h, err := content.ParseHash(req.Hash)
	if err != nil {
		return "", err
	}
	c := f.cache
	path := c.path(h)
	if _, err := os.Stat(path); err == nil {
		c.use(path)
		return path, nil
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return "", err
	}
	defer c.prune(path)
	if err := f.cacheLocal(h, path); err == nil {
		return path, nil
	}
	req.OutDir, req.Name = c.dir, h.String()
	res, err := f.download(ctx, req, nil)
	if err != nil {
		return "", err
	}
	if res.Path != path {
		return "", fmt.Errorf("web cache: %s arrived as %s", path, res.Path)
	}
	return path, nil
}

// cacheLocal copies a file of this node's own catalog, or one of its kit
// binaries, into the phone page's cache at path, hashing it on the way: the
// copy is renamed into place only when its bytes hash to h, so the page
// serves exactly the content it links to even if the file changes
// meanwhile. It needs no network, which matters for the node's own kit
// binaries when nobody else has them, and it does not wait for the first
// scan: the page links the kit as soon as the node starts.
func (f *fetcher) cacheLocal(h content.Hash, path string) error {
	in, size, name, err := f.net.openLocal(h)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".local-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	got, _, err := content.HashReader(io.TeeReader(in, tmp), size)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if got != h {
		return fmt.Errorf("%s changed on disk since it was hashed", name)
	}
	return os.Rename(tmp.Name(), path)
}

// webCache bounds the phone page's download cache (data dir's web-cache):
// after a file is added, the least recently used complete files go until
// the cache holds at most max bytes. Use is the file's modification time,
// set on every fetch that finds it, so the order survives restarts. The
// file just fetched is never evicted, even when alone it passes max: it is
// about to be served. Partial downloads and temporary copies count towards
// max but are left alone (their fetch owns them). Safe for concurrent use.
type webCache struct {
	dir string
	max int64
	log *slog.Logger

	mu sync.Mutex // one prune at a time
}

// path is where the cache keeps the file with hash h.
func (c *webCache) path(h content.Hash) string { return filepath.Join(c.dir, h.String()) }

// use marks a cached file as just used.
func (c *webCache) use(path string) {
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		c.log.Debug("web cache: marking a file used", "path", path, "err", err)
	}
}

// cachedFile is one entry of the cache folder.
type cachedFile struct {
	name     string
	size     int64
	used     time.Time
	complete bool // named by its hash: evictable
}

// prune evicts least recently used complete files, never keep, until the
// cache holds at most max bytes.
func (c *webCache) prune(keep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("web cache: listing", "dir", c.dir, "err", err)
		}
		return
	}
	var files []cachedFile
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		_, herr := content.ParseHash(e.Name())
		files = append(files, cachedFile{name: e.Name(), size: info.Size(), used: info.ModTime(), complete: herr == nil})
	}
	for _, f := range evictions(files, c.max, filepath.Base(keep)) {
		p := filepath.Join(c.dir, f.name)
		if err := os.Remove(p); err != nil {
			c.log.Debug("web cache: evicting", "path", p, "err", err) // open on Windows
		}
	}
}

// evictions returns the complete files to remove, least recently used
// first, so that files hold at most max bytes, never keep.
func evictions(files []cachedFile, max int64, keep string) []cachedFile {
	total := int64(0)
	for _, f := range files {
		total += f.size
	}
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b cachedFile) int { return a.used.Compare(b.used) })
	var out []cachedFile
	for _, f := range files {
		if total <= max {
			break
		}
		if !f.complete || f.name == keep {
			continue
		}
		out = append(out, f)
		total -= f.size
	}
	return out
}
