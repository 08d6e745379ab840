package overlay

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// discoveryControl lets several nodes on one host share the discovery port
// and allows sending broadcasts.
func discoveryControl(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		for _, opt := range []int{unix.SO_REUSEADDR, unix.SO_REUSEPORT, unix.SO_BROADCAST} {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, 1); serr != nil {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}
