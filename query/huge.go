package query

import (
	"encoding/hex"
	"fmt"

	"github.com/servent-p2p/servent/content"
)

// HUGE (Hash/URN Gnutella Extensions) elements: text URNs inside extension
// blocks, separated from other elements by 0x1C.
const (
	extSeparator = 0x1C
	// URNLen is the encoded length of "urn:blake3:" plus 64 hex digits.
	URNLen = len(content.URNPrefix) + 2*content.HashSize
)

// appendURN appends h as "urn:blake3:<lower-case hex>".
func appendURN(dst []byte, h content.Hash) []byte {
	dst = append(dst, content.URNPrefix...)
	return hex.AppendEncode(dst, h[:])
}

// parseURN decodes one HUGE element. known reports whether it is a blake3
// URN; other "urn:" namespaces (urn:sha1, a bare "urn:") and elements that
// are not URNs at all (XML, legacy metadata) are not known and are ignored
// by the caller, as HUGE asks. A malformed urn:blake3 is ErrBadURN.
func parseURN(tok []byte) (h content.Hash, known bool, err error) {
	const urn = "urn:"
	if len(tok) < len(urn) || !equalFoldASCII(tok[:len(urn)], urn) {
		return h, false, nil // not a URN: XML, legacy metadata; HUGE says ignore it
	}
	p := len(content.URNPrefix)
	if len(tok) < p || !equalFoldASCII(tok[:p], content.URNPrefix) {
		return h, false, nil
	}
	if len(tok) != URNLen {
		return h, false, fmt.Errorf("urn length %d: %w", len(tok), ErrBadURN)
	}
	if _, err := hex.Decode(h[:], tok[p:]); err != nil {
		return h, false, fmt.Errorf("urn hex: %w", ErrBadURN)
	}
	if h.IsZero() {
		// The zero hash means "no hash" in Query and FileResult.
		return h, false, fmt.Errorf("zero urn:blake3: %w", ErrBadURN)
	}
	return h, true, nil
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lowerASCII(b[i]) != lowerASCII(s[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
