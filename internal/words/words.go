package words

import (
	"crypto/sha256"
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

//go:embed english.txt
var english string

// List returns the 2,048 words of the BIP-39 English list in order. The
// slice is shared: callers must not change it.
var List = sync.OnceValue(func() []string { return strings.Fields(english) })

// Mnemonic returns the BIP-39 mnemonic of entropy, which must be 16 to 32
// bytes and a multiple of 4: its bits followed by the first len/4 bits of
// its SHA-256, 11 bits to a word, in words separated by spaces.
func Mnemonic(entropy []byte) (string, error) {
	n := len(entropy)
	if n < 16 || n > 32 || n%4 != 0 {
		return "", fmt.Errorf("words: %d bytes of entropy; BIP-39 takes 16, 20, 24, 28 or 32", n)
	}
	sum := sha256.Sum256(entropy)
	bits := append(append(make([]byte, 0, n+1), entropy...), sum[0])
	list := List()
	out := make([]string, (8*n+n/4)/11)
	for i := range out {
		idx := 0
		for b := 11 * i; b < 11*i+11; b++ {
			idx = idx<<1 | int(bits[b/8]>>(7-b%8)&1)
		}
		out[i] = list[idx]
	}
	return strings.Join(out, " "), nil
}
