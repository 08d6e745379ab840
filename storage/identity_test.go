package storage

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"sync"
	"testing"
)

func TestIdentityStableAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent first calls agree on one key.
	keys := make([]ed25519.PrivateKey, 4)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := s.Identity()
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent first calls returned different keys")
		}
	}
	s.Close()

	ro, err := Open(dir, Options{ReadOnly: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	again, err := ro.Identity()
	ro.Close()
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("identity changed across reopen: %v", err)
	}
	msg := []byte("hello")
	if !ed25519.Verify(again.Public().(ed25519.PublicKey), msg, ed25519.Sign(keys[0], msg)) {
		t.Fatal("reloaded key does not match")
	}
}

func TestIdentityReadOnlyMissing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := Open(dir, Options{ReadOnly: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Identity(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

func FuzzDecodeIdentity(f *testing.F) {
	f.Add(append([]byte{formatV1}, make([]byte, ed25519.SeedSize)...))
	f.Add([]byte{})
	f.Add([]byte{2, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := decodeIdentity(b)
		if err == nil && !bytes.Equal(k.Seed(), b[1:]) {
			t.Fatal("seed not preserved")
		}
	})
}
