//go:build !windows

package storage

// badgerReadOnly reports whether badger can open a database read-only on
// this platform: everywhere but Windows, where readonly_windows.go says why
// not.
const badgerReadOnly = true
