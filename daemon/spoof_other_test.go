//go:build !linux

package daemon

import (
	"errors"
	"net/netip"
)

// spoofUDP needs Linux's raw IP sockets; elsewhere the test that uses it
// skips.
func spoofUDP(netip.AddrPort, netip.AddrPort, []byte) error {
	return errors.New("forging a source address is implemented on linux only")
}
