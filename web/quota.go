package web

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// errQuotaFull: the drop folder holds Config.UploadQuota bytes already.
var errQuotaFull = errors.New("upload space full")

// uploadQuota bounds the bytes in the drop folder, uploads in progress
// included. It counts the folder once at start, then charges every write
// before it happens; when a write would pass the quota it counts the folder
// again (the node's owner may have moved files out) before refusing. Safe
// for concurrent use.
type uploadQuota struct {
	max  int64
	root *os.Root

	mu       sync.Mutex
	used     int64 // bytes in the folder: counted, plus written since
	inflight int64 // charged, not yet written
}

func newUploadQuota(root *os.Root, max int64) (*uploadQuota, error) {
	q := &uploadQuota{max: max, root: root}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.recountLocked(); err != nil {
		return nil, fmt.Errorf("web: counting the drop folder: %w", err)
	}
	return q, nil
}

// recountLocked sets used to the bytes of the regular files in the folder
// and its subfolders (a partial upload counts what it has written).
func (q *uploadQuota) recountLocked() error {
	var total int64
	err := fs.WalkDir(q.root.FS(), ".", func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		return err
	}
	q.used = total
	return nil
}

// charge reserves n bytes for a write about to happen, or fails with
// errQuotaFull.
func (q *uploadQuota) charge(n int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.used+q.inflight+n > q.max {
		if err := q.recountLocked(); err != nil {
			return err
		}
		if q.used+q.inflight+n > q.max {
			return errQuotaFull
		}
	}
	q.inflight += n
	return nil
}

// wrote settles a charge of n bytes of which written reached the disk.
func (q *uploadQuota) wrote(n, written int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inflight -= n
	q.used += written
}

// release gives back n written bytes whose file was removed.
func (q *uploadQuota) release(n int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.used = max(0, q.used-n)
}

// quotaWriter charges every write to the quota before passing it on.
type quotaWriter struct {
	uploadFile
	q       *uploadQuota
	written int64
}

func (w *quotaWriter) Write(p []byte) (int, error) {
	if err := w.q.charge(int64(len(p))); err != nil {
		return 0, err
	}
	n, err := w.uploadFile.Write(p)
	w.q.wrote(int64(len(p)), int64(n))
	w.written += int64(n)
	return n, err
}
