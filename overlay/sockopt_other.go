//go:build !linux

package overlay

import (
	"errors"
	"net/netip"
	"syscall"
)

// errNoMulticastIf: per-interface multicast needs Linux socket options; other
// systems send broadcasts only.
var errNoMulticastIf = errors.New("per-interface multicast is only implemented on linux")

func discoveryControl(_, _ string, _ syscall.RawConn) error { return nil }

func joinGroup(syscall.RawConn, netip.Addr, int) error { return errNoMulticastIf }

func setMulticastIf(syscall.RawConn, int) error { return errNoMulticastIf }
