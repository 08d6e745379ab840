package daemon

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/servent-p2p/servent/storage"
)

// cacheLocal copies a file of this node's own catalog into the phone page's
// cache at path, hashing it on the way: the copy is renamed into place only
// when its bytes hash to h, so the page serves exactly the content it links
// to even if the shared file changes meanwhile. It needs no network, which
// matters for the node's own kit binaries when nobody else has them.
func (d *Daemon) cacheLocal(h storage.Hash, path string) error {
	f, err := d.store.FileByHash(h)
	if err != nil {
		return err
	}
	in, err := d.store.OpenFile(f)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".local-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	got, _, err := storage.HashReader(io.TeeReader(in, tmp), f.Size)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if got != h {
		return fmt.Errorf("%s changed on disk since it was hashed", f.Path)
	}
	return os.Rename(tmp.Name(), path)
}
