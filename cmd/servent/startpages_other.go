//go:build !linux

package main

// dropStartPages does nothing outside Linux.
func dropStartPages() (int64, error) { return 0, nil }
