package query

// qrpMultiplier is the golden-ratio multiplier of the QRP hash (Rohrs 2002).
const qrpMultiplier = 0x4F1BBCDC

// QRPHash is the Gnutella QRP hash of word into a table of 2^bits slots
// (bits 1..32), as defined by Rohrs, "Query Routing for the Gnutella
// Network" (2002): the bytes, ASCII-lower-cased, are XORed into a 32-bit word
// little-endian in groups of four, multiplied by 0x4F1BBCDC modulo 2^32, and
// the top bits are kept. Non-ASCII bytes are hashed as they are: callers pass
// storage.Keywords output, which is already lower-cased with Unicode rules.
// It allocates nothing.
func QRPHash(word string, bits int) uint32 {
	var x uint32
	for i := 0; i < len(word); i++ {
		x ^= uint32(lowerASCII(word[i])) << (8 * (i & 3))
	}
	return (x * qrpMultiplier) >> (32 - bits)
}
