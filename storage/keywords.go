package storage

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Keywords splits a share-relative path (or a query) into normalised search
// words: NFC-normalised, lower-cased with Unicode rules, split on every rune
// that is not a letter or a digit. Duplicates are removed; order of first
// appearance is kept. "Maps/Zürich_2024.PDF" gives [maps zürich 2024 pdf].
func Keywords(s string) []string {
	s = norm.NFC.String(s)
	var words []string
	seen := make(map[string]struct{})
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		w = strings.ToLower(w)
		if _, ok := seen[w]; ok {
			continue
		}
		seen[w] = struct{}{}
		words = append(words, w)
	}
	return words
}
