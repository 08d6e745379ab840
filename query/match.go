package query

import (
	"strings"
	"unicode/utf8"

	"github.com/servent-p2p/servent/content"
)

// MinPrefix is the shortest query word (in characters) that also matches
// the keywords it starts: "evac" finds "evacuation", "ev" finds only "ev".
const MinPrefix = 3

// Words returns the query's search words: content.QueryWords of the
// criteria.
func (q *Query) Words() []string { return content.QueryWords(q.Criteria) }

// WordMatch is the matching rule for one query word and one keyword (both
// normalised by package storage): equal is an exact match; a word of
// MinPrefix or more characters that starts the keyword is a prefix match.
func WordMatch(word, keyword string) (match, exact bool) {
	if word == keyword {
		return true, true
	}
	return IsPrefixWord(word) && strings.HasPrefix(keyword, word), false
}

// IsPrefixWord reports whether word is long enough to match keywords by
// prefix.
func IsPrefixWord(word string) bool { return utf8.RuneCountInString(word) >= MinPrefix }

// MatchFile is the one matching rule every index uses (the ultrapeer
// registry implements the same rule with an inverted index, and a test
// checks they agree): words (the query's content.QueryWords) is not empty
// and every word matches (WordMatch) some keyword of the file
// (content.Keywords of its share-relative path). exact counts the words
// that equal a keyword; results rank by it.
func MatchFile(words []string, fileKeywords []string) (match bool, exact int) {
	if len(words) == 0 {
		return false, 0
	}
	for _, w := range words {
		found, ex := false, false
		for _, k := range fileKeywords {
			if m, e := WordMatch(w, k); m {
				found = true
				if e {
					ex = true
					break
				}
			}
		}
		if !found {
			return false, 0
		}
		if ex {
			exact++
		}
	}
	return true, exact
}

// MatchesFile reports whether a file matches (MatchFile).
func MatchesFile(words []string, fileKeywords []string) bool {
	m, _ := MatchFile(words, fileKeywords)
	return m
}

// Matches reports whether a file with the given keywords and content hash
// answers the query (the caller passes q.Words(), computed once per query).
// A query with a hash needs the file hash to equal it; a query with words
// needs MatchesFile; a query with both needs both.
func (q *Query) Matches(words []string, fileKeywords []string, hash content.Hash) bool {
	if !q.Hash.IsZero() && q.Hash != hash {
		return false
	}
	if len(words) == 0 {
		return !q.Hash.IsZero()
	}
	return MatchesFile(words, fileKeywords)
}
