//go:build !linux

package transfer

import "os"

// freeBytes describes the space available in dir's file system; it is
// only measured on Linux.
func freeBytes(string) string { return "unknown bytes" }

// reserve does nothing here: chunks allocate their space as they are
// written.
func reserve(*os.File, int64) error { return nil }

// startWriteback is a no-op where sync_file_range does not exist.
func startWriteback(*os.File, int64, int64) {}
