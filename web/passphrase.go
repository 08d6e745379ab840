package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"

	"github.com/servent-p2p/servent/internal/words"
)

// PassphraseWords is the length of a NewPassphrase: 5 words of the BIP-39
// list, 55 bits. The login is rate-limited per device (a burst of 10, then
// one guess every 3 s, each wrong one answered after a second), so online
// guessing is hopeless; a sniffer needs no guessing, and gets the page only.
const PassphraseWords = 5

// NewPassphrase returns a fresh random page passphrase: PassphraseWords
// lowercase words (BIP-39 English list) separated by spaces. It is the
// web page's own secret, never derived from the drill key.
func NewPassphrase() (string, error) {
	list := words.List() // 2048 words: 11 bits each
	raw := make([]byte, 2*PassphraseWords)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	picked := make([]string, PassphraseWords)
	for i := range picked {
		picked[i] = list[int(binary.BigEndian.Uint16(raw[2*i:]))%len(list)]
	}
	return strings.Join(picked, " "), nil
}

// normalizePassphrase folds what phones do to typed words: capitals,
// doubled or trailing spaces, and the dashes of the login link.
func normalizePassphrase(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.ReplaceAll(s, "-", " "))), " ")
}

// passphraseOK compares in constant time (over digests, so the length
// does not leak either).
func (s *Server) passphraseOK(given string) bool {
	a := sha256.Sum256([]byte(normalizePassphrase(given)))
	b := sha256.Sum256([]byte(normalizePassphrase(s.cfg.Passphrase)))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// loginParam is the login link's query parameter holding the passphrase.
const loginParam = "pass"

// LoginURL returns the link the QR code holds: the first page URL with
// the passphrase (dashes for spaces), so a phone that scans it is logged
// in at once. Without a passphrase it is the page URL; "" before Start.
// Safe for concurrent use.
func (s *Server) LoginURL() string {
	urls := s.URLs()
	if len(urls) == 0 {
		return ""
	}
	if s.cfg.Passphrase == "" {
		return urls[0]
	}
	q := url.Values{loginParam: {strings.ReplaceAll(normalizePassphrase(s.cfg.Passphrase), " ", "-")}}
	return urls[0] + "login?" + q.Encode()
}
