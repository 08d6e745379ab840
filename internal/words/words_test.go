package words

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cosmos/go-bip39"
)

// TestListIsBIP39: the embedded list is BIP-39's English list, word for
// word (go-bip39 checks its own copy against the published checksum).
func TestListIsBIP39(t *testing.T) {
	if got := List(); len(got) != 2048 || !slices.Equal(got, bip39.EnglishWordList) {
		t.Fatalf("list of %d words differs from BIP-39's English list", len(got))
	}
}

// TestMnemonicMatchesBIP39: for every entropy size BIP-39 allows, random
// entropies (and all zeros, all ones) give go-bip39's mnemonic, so drill
// keys written before read the same.
func TestMnemonicMatchesBIP39(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{16, 20, 24, 28, 32} {
		for i := range 200 {
			e := make([]byte, n)
			switch i {
			case 0:
			case 1:
				for j := range e {
					e[j] = 0xff
				}
			default:
				for j := range e {
					e[j] = byte(r.Uint32())
				}
			}
			want, err := bip39.NewMnemonic(e)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := Mnemonic(e); err != nil || got != want {
				t.Fatalf("%x: %q, %v; want %q", e, got, err, want)
			}
		}
	}
	// BIP-39's well-known vector: 16 zero bytes.
	if got, _ := Mnemonic(make([]byte, 16)); got != "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about" {
		t.Fatalf("zero entropy: %q", got)
	}
}

// TestMnemonicRefusesBadSizes: entropy BIP-39 does not define is an error.
func TestMnemonicRefusesBadSizes(t *testing.T) {
	for _, n := range []int{0, 4, 15, 17, 33, 64} {
		if _, err := Mnemonic(make([]byte, n)); err == nil {
			t.Errorf("%d bytes accepted", n)
		}
	}
}
