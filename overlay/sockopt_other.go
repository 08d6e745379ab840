//go:build !linux

package overlay

import "syscall"

// discoveryControl is a no-op off Linux: one node per host shares the
// discovery port there.
func discoveryControl(_, _ string, _ syscall.RawConn) error { return nil }
