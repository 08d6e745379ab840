package content

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Search text is normalised in one place: Fold for a single word, Keywords
// for the words of a file name (what an index stores), QueryWords for the
// words of a query (what a match needs). The index, the query, the QRP
// tables, the simulator and the web page all go through these three.

// foldCase is full Unicode case folding (ß and ẞ become ss, final sigma σ).
// A cases.Caser keeps state, so each call makes its own.
func foldCase() cases.Caser { return cases.Fold() }

// marked are the scripts whose combining marks are diacritics that people
// leave out when they type (é, ö, ñ, ё, Greek tonos, Arabic harakat, Hebrew
// points). The marks of other scripts (Indic vowel signs, Thai vowels, kana
// voicing marks) change the letter and are kept.
var marked = []*unicode.RangeTable{unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Arabic, unicode.Hebrew}

// undecomposed are the Latin letters that Unicode gives no decomposition
// (so norm.NFD cannot strip them) but that keyboards without them spell with
// plain letters. Only lower case: Fold has already folded case.
var undecomposed = map[rune]string{
	'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'ł': "l", 'ŀ': "l",
	'þ': "th", 'ħ': "h", 'ı': "i", 'ŧ': "t", 'ƒ': "f", 'ĳ': "ij",
}

// Fold normalises one word for matching: Unicode NFKC (full-width forms,
// ligatures and compatibility characters folded), full case folding, the
// diacritics of Latin, Greek, Cyrillic, Arabic and Hebrew removed, and the
// Latin letters without a decomposition spelled out (æ→ae, ø→o, ł→l).
// "Évacuation" gives "evacuation", "Straße" "strasse", "ＡＢＣ" "abc".
func Fold(s string) string {
	s = norm.NFKC.String(s)
	s = foldCase().String(s)
	if !needsStrip(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	base := false // the last base rune is of a marked script
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			if base {
				continue
			}
		default:
			base = unicode.IsOneOf(marked, r)
		}
		if x, ok := undecomposed[r]; ok {
			b.WriteString(x)
			continue
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

// needsStrip reports whether s has anything Fold's mark and letter pass
// would change (the common ASCII case skips it).
func needsStrip(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// unspaced are the scripts written without spaces between words: their runs
// are indexed as overlapping bigrams (and single characters), so that 日本語
// finds 日本語のファイル.
var unspaced = []*unicode.RangeTable{
	unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul,
	unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar,
}

// token is one word of a text as written: a run of letters, digits and
// marks (apostrophes inside it mark part boundaries), or one symbol rune
// (an emoji).
type token struct {
	text   string
	symbol bool
}

// tokens splits NFKC-normalised s into words and symbols.
func tokens(s string) []token {
	s = norm.NFKC.String(s)
	var out []token
	start := -1
	flush := func(end int) {
		if start >= 0 {
			out = append(out, token{text: strings.Trim(s[start:end], "'’")})
			start = -1
		}
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = i
			}
		case unicode.IsMark(r) || isApostrophe(r):
			// inside a word only
		case unicode.Is(unicode.So, r):
			flush(i)
			out = append(out, token{text: string(r), symbol: true})
		default:
			flush(i)
		}
	}
	flush(len(s))
	return out
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' }

// class is how a rune of a word is segmented.
type class uint8

const (
	classNone class = iota
	classLower
	classUpper
	classDigit
	classUnspaced
)

func classOf(r rune) class {
	switch {
	case unicode.IsOneOf(unspaced, r):
		return classUnspaced
	case unicode.IsDigit(r):
		return classDigit
	case unicode.IsUpper(r) || unicode.IsTitle(r):
		return classUpper
	case unicode.IsLetter(r):
		return classLower
	}
	return classNone // marks, apostrophes: belong to the rune before
}

// piece is a run of a word: unspaced script, or the rest.
type piece struct {
	text     string // the run as written (unspaced runs)
	unspaced bool
	parts    []string // camelCase, letter/digit and apostrophe parts
}

// pieces splits a word into runs of unspaced scripts and the rest; the rest
// is further cut into parts at lower→Upper ("waterMap"), UPPER→Upper-lower
// ("HTMLFile"), letter↔digit ("plan2026") and apostrophe ("l'été")
// boundaries.
func pieces(w string) []piece {
	var out []piece
	rs := []rune(w)
	start, partStart := 0, 0
	var parts []string
	prev := classNone
	emit := func(end int) {
		if start >= end {
			return
		}
		p := piece{text: string(rs[start:end])}
		if classOf(rs[start]) == classUnspaced {
			p.unspaced = true
		} else {
			p.parts = append(parts, strings.Trim(string(rs[partStart:end]), "'’"))
		}
		out = append(out, p)
		parts = nil
		start, partStart = end, end
	}
	cut := func(i int) {
		if t := strings.Trim(string(rs[partStart:i]), "'’"); t != "" {
			parts = append(parts, t)
		}
		partStart = i
	}
	for i, r := range rs {
		c := classOf(r)
		if prev != classNone && unicode.Is(unicode.Extender, r) {
			c = prev // ー in データ, 々 in 人々
		}
		if c == classNone {
			if isApostrophe(r) && i > partStart {
				cut(i)
			}
			continue
		}
		switch {
		case prev == classNone:
		case (c == classUnspaced) != (prev == classUnspaced):
			emit(i)
		case c == classUnspaced:
		case prev == classLower && c == classUpper,
			(prev == classDigit) != (c == classDigit):
			cut(i)
		case prev == classUpper && c == classLower && i-1 > partStart:
			cut(i - 1)
		}
		prev = c
	}
	emit(len(rs))
	return out
}

// grams appends the folded unigrams (when uni) and bigrams of an unspaced run.
func grams(out []string, run string, uni bool) []string {
	rs := []rune(Fold(run))
	if len(rs) == 1 || uni {
		for _, r := range rs {
			out = append(out, string(r))
		}
	}
	for i := 0; i+1 < len(rs); i++ {
		out = append(out, string(rs[i:i+2]))
	}
	return out
}

// Keywords returns the search words of a file name or share-relative path,
// as an index stores them: every word folded (Fold), and also, for a word
// with parts, each part ("WaterMap_2026" gives watermap, water, map, 2026);
// runs of unspaced scripts give their characters and overlapping bigrams
// (日本語 gives 日, 本, 語, 日本, 本語); each symbol (emoji) is a word.
// Duplicates are removed; order of first appearance is kept.
// "Maps/Zürich_2024.PDF" gives [maps zurich 2024 pdf].
func Keywords(s string) []string {
	return words(s, true, func(out, parts []string) []string {
		out = append(out, Fold(strings.Join(parts, "")))
		if len(parts) == 1 {
			return out
		}
		return foldAll(out, parts)
	})
}

// QueryWords returns the words a query needs, each of which must match a
// keyword of a file (see query.MatchesFile): the folded parts of every word
// ("WaterMap" needs water and map, which Keywords gives "Water Map.kmz" and
// "WaterMap.kmz" alike), the bigrams of an unspaced run (its one character
// when it has one), and symbols.
func QueryWords(s string) []string { return words(s, false, foldAll) }

// words returns the words of s: each symbol as it is, the bigrams of each
// unspaced run (and its characters when uni, or when it has only one), and
// for every other piece what spaced appends from its parts. Empty and
// repeated words are removed.
func words(s string, uni bool, spaced func(out, parts []string) []string) []string {
	var out []string
	for _, t := range tokens(s) {
		if t.symbol {
			out = append(out, t.text)
			continue
		}
		for _, p := range pieces(t.text) {
			if p.unspaced {
				out = grams(out, p.text, uni)
				continue
			}
			out = spaced(out, p.parts)
		}
	}
	return dedup(out)
}

// foldAll appends every part folded.
func foldAll(out, parts []string) []string {
	for _, part := range parts {
		out = append(out, Fold(part))
	}
	return out
}

// dedup removes empty and repeated words, keeping the first of each.
func dedup(ws []string) []string {
	var out []string
	seen := make(map[string]struct{}, len(ws))
	for _, w := range ws {
		if _, ok := seen[w]; ok || w == "" {
			continue
		}
		seen[w] = struct{}{}
		out = append(out, w)
	}
	return out
}
