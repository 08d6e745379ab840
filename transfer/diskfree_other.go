//go:build !linux

package transfer

// freeBytes describes the space available in dir's file system; it is
// only measured on Linux.
func freeBytes(string) string { return "unknown bytes" }
