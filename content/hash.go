package content

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// HashSize is the length in bytes of a content hash.
const HashSize = 32

// URNPrefix is the prefix of a content hash written as a URN (HUGE style).
const URNPrefix = "urn:blake3:"

// ErrBadHash is returned when a string is not a valid content hash.
var ErrBadHash = errors.New("not a content hash")

// Hash is the BLAKE3-256 hash of a file's bytes: the same value `b3sum`
// prints, and the root of the Bao tree that verifies each chunk.
type Hash [HashSize]byte

// String returns the hash as 64 lower-case hex digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// URN returns the hash as "urn:blake3:<hex>".
func (h Hash) URN() string { return URNPrefix + h.String() }

// IsZero reports whether h is the zero value.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText implements encoding.TextMarshaler (hex).
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (hex or URN).
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHash accepts 64 hex digits, optionally prefixed by "urn:blake3:".
func ParseHash(s string) (Hash, error) {
	var h Hash
	s = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), URNPrefix)
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("%w: %q has %d characters, want %d hex digits", ErrBadHash, s, len(s), 2*HashSize)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: %q: %v", ErrBadHash, s, err)
	}
	return h, nil
}
