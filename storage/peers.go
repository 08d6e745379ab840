package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// MaxPeers bounds the peer cache.
const MaxPeers = 64

// maxAddrLen bounds one cached address ("[ipv6%zone]:port" fits easily).
const maxAddrLen = 256

var peersKey = []byte{kindPeers, 'p', 'e', 'e', 'r', 's'}

// SavePeers records addrs (most recent first) at the head of the peer
// cache, followed by previously cached addresses not in addrs, without
// duplicates or empty strings, keeping at most MaxPeers. Safe for
// concurrent use.
func (s *Store) SavePeers(addrs []string) error {
	err := s.update(func(txn *badger.Txn) error {
		old, err := readPeers(txn)
		if err != nil {
			return err
		}
		merged := make([]string, 0, MaxPeers)
		seen := make(map[string]bool)
		for _, a := range append(append([]string{}, addrs...), old...) {
			if a == "" || len(a) > maxAddrLen || seen[a] || len(merged) == MaxPeers {
				continue
			}
			seen[a] = true
			merged = append(merged, a)
		}
		return txn.Set(peersKey, encodePeers(merged))
	})
	if err != nil {
		return fmt.Errorf("save peers: %w", err)
	}
	return nil
}

// Peers returns the cached peer addresses, most recent first; empty (and a
// nil error) when none were saved. Safe for concurrent use.
func (s *Store) Peers() ([]string, error) {
	var peers []string
	err := s.db.View(func(txn *badger.Txn) (err error) {
		peers, err = readPeers(txn)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read peers: %w", err)
	}
	return peers, nil
}

func readPeers(txn *badger.Txn) ([]string, error) {
	b, err := getValue(txn, peersKey)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodePeers(b)
}

// encodePeers: version, uvarint count, then uvarint length + bytes each.
func encodePeers(addrs []string) []byte {
	b := []byte{formatV1}
	b = binary.AppendUvarint(b, uint64(len(addrs)))
	for _, a := range addrs {
		b = binary.AppendUvarint(b, uint64(len(a)))
		b = append(b, a...)
	}
	return b
}

func decodePeers(b []byte) ([]string, error) {
	if len(b) < 1 || b[0] != formatV1 {
		return nil, fmt.Errorf("%w: peers format", ErrCorrupt)
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > MaxPeers {
		return nil, fmt.Errorf("%w: peer count", ErrCorrupt)
	}
	b = b[k:]
	addrs := make([]string, 0, n)
	for range n {
		a, rest, err := readBytes(b, maxAddrLen)
		if err != nil {
			return nil, fmt.Errorf("peers: %w", err)
		}
		addrs = append(addrs, string(a))
		b = rest
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes in peers", ErrCorrupt, len(b))
	}
	return addrs, nil
}

// readBytes reads a uvarint length (at most limit) and that many bytes.
func readBytes(b []byte, limit int) (field, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(limit) || n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("%w: field length", ErrCorrupt)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}
