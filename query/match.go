package query

import "github.com/servent-p2p/servent/storage"

// Words returns the query's search words: storage.Keywords of the criteria.
func (q *Query) Words() []string { return storage.Keywords(q.Criteria) }

// MatchesFile is the one matching rule every index uses: words (the query's
// storage.Keywords) is not empty and every word equals, as a whole word, some
// keyword of the file (storage.Keywords of its share-relative path). Both
// sides are already normalised (NFC, lower-case), so the comparison is
// case-insensitive. No prefix matching.
func MatchesFile(words []string, fileKeywords []string) bool {
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		found := false
		for _, k := range fileKeywords {
			if k == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Matches reports whether a file with the given keywords and content hash
// answers the query (the caller passes q.Words(), computed once per query).
// A query with a hash needs the file hash to equal it; a query with words
// needs MatchesFile; a query with both needs both.
func (q *Query) Matches(words []string, fileKeywords []string, hash storage.Hash) bool {
	if !q.Hash.IsZero() && q.Hash != hash {
		return false
	}
	if len(words) == 0 {
		return !q.Hash.IsZero()
	}
	return MatchesFile(words, fileKeywords)
}
