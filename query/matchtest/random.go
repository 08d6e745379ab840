package matchtest

import (
	"math/rand/v2"
	"strings"
)

// Parts are the pieces random names and queries are made of: mixed case,
// accents, ß and its spelling out, scripts without spaces, a Cyrillic and a
// Greek word, an emoji, digits, short words that are prefixes of others.
var Parts = []string{"Map", "map", "maps", "Évac", "evacuation", "été", "ETE", "ÉTÉ", "straße", "strasse",
	"日本", "日本語", "ファイル", "2026", "20", "v2", "Ab", "abc", "abcd", "Øl", "ol", "north", "nor",
	"карта", "КАРТ", "αθηνα", "🔥", "x", "camelCase", "snake_case"}

// separators join the parts of a random name, as people and tools do.
var separators = []string{" ", "_", "-", ".", "/", ""}

// RandomWord returns one of Parts.
func RandomWord(rng *rand.Rand) string { return Parts[rng.IntN(len(Parts))] }

// RandomNames returns n distinct file names (share-relative paths), each
// one to four Parts joined by separators, in the order drawn.
func RandomNames(rng *rand.Rand, n int) []string {
	var names []string
	seen := map[string]bool{}
	for len(names) < n {
		var b strings.Builder
		for i := range 1 + rng.IntN(4) {
			if i > 0 {
				b.WriteString(separators[rng.IntN(len(separators))])
			}
			b.WriteString(RandomWord(rng))
		}
		if name := b.String(); !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}
