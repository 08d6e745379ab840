//go:build !unix

package storage

import "testing"

// mkfifo skips the test: named pipes in a folder are a unix thing.
func mkfifo(t *testing.T, _ string) {
	t.Helper()
	t.Skip("no named pipes in the file system on this system")
}
