package storage

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

var identityKey = []byte{kindIdentity, 'e', 'd', '2', '5', '5', '1', '9'}

// Identity returns the node's Ed25519 key pair, generating and persisting
// it on first use, so the node keeps its identity across restarts. On a
// read-only store that never had one it returns an error wrapping
// ErrNotFound. Safe for concurrent use: concurrent first calls agree on
// one key.
func (s *Store) Identity() (ed25519.PrivateKey, error) {
	var key ed25519.PrivateKey
	load := func(txn *badger.Txn) error {
		b, err := getValue(txn, identityKey)
		if err != nil {
			return err
		}
		key, err = decodeIdentity(b)
		return err
	}
	err := s.db.View(load)
	if errors.Is(err, ErrNotFound) && !s.readOnly {
		s.idMu.Lock()
		defer s.idMu.Unlock()
		err = s.update(func(txn *badger.Txn) error {
			if err := load(txn); !errors.Is(err, ErrNotFound) {
				return err
			}
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			key = priv
			return txn.Set(identityKey, append([]byte{formatV1}, priv.Seed()...))
		})
	}
	if err != nil {
		return nil, fmt.Errorf("node identity: %w", err)
	}
	return key, nil
}

func decodeIdentity(b []byte) (ed25519.PrivateKey, error) {
	if len(b) != 1+ed25519.SeedSize || b[0] != formatV1 {
		return nil, fmt.Errorf("%w: identity", ErrCorrupt)
	}
	return ed25519.NewKeyFromSeed(b[1:]), nil
}
