package overlay

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestInterfaceChangesNotified: in a network namespace of its own, a link
// brought up reaches interfaceChanges at once, and stop returns. Needs
// root (CAP_SYS_ADMIN for the namespace); skipped otherwise.
func TestInterfaceChangesNotified(t *testing.T) {
	errc := make(chan error, 1)
	go func() {
		// This thread moves to the new namespace and is never unlocked:
		// the runtime ends it with the goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- errSkip{err}
			return
		}
		changes, stop := interfaceChanges()
		if changes == nil {
			errc <- errors.New("no rtnetlink subscription")
			return
		}
		defer stop()
		if err := linkUp("lo"); err != nil {
			errc <- err
			return
		}
		select {
		case <-changes:
			errc <- nil
		case <-time.After(5 * time.Second):
			errc <- errors.New("lo came up, no notification within 5 s")
		}
	}()
	err := <-errc
	var skip errSkip
	if errors.As(err, &skip) {
		t.Skipf("no network namespace: %v", skip.err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

type errSkip struct{ err error }

func (e errSkip) Error() string { return e.err.Error() }

// linkUp sets IFF_UP on the interface name in the calling thread's
// namespace.
func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
