package query

import (
	"unicode/utf16"
	"unicode/utf8"
)

// qrpMultiplier is the golden-ratio multiplier of the QRP hash (Rohrs 2002).
const qrpMultiplier = 0x4F1BBCDC

// QRPHash is the Gnutella QRP hash of word into a table of 2^bits slots
// (bits 1..32), as defined by Rohrs, "Query Routing for the Gnutella
// Network" (2002) and implemented by LimeWire and gtk-gnutella: the word is
// taken as UTF-16 code units (a character beyond U+FFFF as its two
// surrogates, high first), each contributes its low byte (an ASCII
// unit lower-cased), the bytes are XORed into a 32-bit word little-endian in
// groups of four, multiplied by 0x4F1BBCDC modulo 2^32, and the top bits are
// kept. Callers pass content.Keywords output, already case-folded. An
// invalid UTF-8 byte counts as U+FFFD. It allocates nothing.
func QRPHash(word string, bits int) uint32 {
	var x uint32
	i := 0
	put := func(unit rune) {
		b := byte(unit)
		if unit < utf8.RuneSelf {
			b = lowerASCII(b)
		}
		x ^= uint32(b) << (8 * (i & 3))
		i++
	}
	for j := 0; j < len(word); {
		r, n := rune(word[j]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(word[j:])
		}
		j += n
		if hi, lo := utf16.EncodeRune(r); hi != utf8.RuneError {
			put(hi)
			put(lo)
			continue
		}
		put(r)
	}
	return (x * qrpMultiplier) >> (32 - bits)
}
