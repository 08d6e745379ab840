//go:build unix

package storage

import (
	"syscall"
	"testing"
)

// mkfifo makes a named pipe at path: a file a scan must not block on.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}
