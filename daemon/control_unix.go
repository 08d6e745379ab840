//go:build unix

package daemon

import "os"

// restrictSocket lets only the owner connect to the control socket.
func restrictSocket(path string) error { return os.Chmod(path, 0o600) }
