// Package words writes random bits as words of the BIP-39 English list
// (2,048 words, 11 bits each): the drill key (`servent key new`, a BIP-39
// mnemonic) and the phone page's passphrase. The list is split into words
// on first use, not at start: go-bip39, used before, built a map of it in
// package init, about 150 kB of heap in every servent process although
// only these two rarely used paths need it.
//
// Imports: the standard library only.
package words
