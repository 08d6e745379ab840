//go:build !linux

package overlay

// interfaceChanges: no change notifications outside Linux; poll.
func interfaceChanges() (changes <-chan struct{}, stop func()) {
	return nil, func() {}
}
