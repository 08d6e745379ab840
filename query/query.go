package query

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/servent-p2p/servent/storage"
)

// Query is the payload of a Query (0x80) descriptor.
type Query struct {
	// Flags is the Gnutella "minimum speed" field, used as flags by modern
	// servents; carried through unchanged.
	Flags uint16
	// Criteria is the search text (UTF-8, no NUL). It may be empty when Hash is set.
	Criteria string
	// Hash, when not zero, asks for the file with this content hash; it travels
	// as a HUGE "urn:blake3:<hex>" element.
	Hash storage.Hash
	// WantAnswered (GGEP "AN") asks every node that processes the query to
	// mark its answer as complete, with an empty hit when it has no match
	// (QueryHit.Answered), so that a search on a small network ends when
	// everyone answered (Result.Answered).
	WantAnswered bool
}

// answeredGGEP is the GGEP block of WantAnswered.
var answeredGGEP = []GGEPExt{{ID: KeyAnswered}}

func (q *Query) encodedLen() int {
	n := 2 + len(q.Criteria) + 1
	if !q.Hash.IsZero() {
		n += URNLen
	}
	if q.WantAnswered {
		if !q.Hash.IsZero() {
			n++ // separator
		}
		n += GGEPLen(answeredGGEP)
	}
	return n
}

func (q *Query) validate() error {
	if q.Criteria == "" && q.Hash.IsZero() {
		return ErrEmptyQuery
	}
	if !utf8.ValidString(q.Criteria) || bytes.IndexByte([]byte(q.Criteria), 0) >= 0 {
		return fmt.Errorf("criteria: %w", ErrBadString)
	}
	return nil
}

func (q *Query) appendTo(dst []byte) ([]byte, error) {
	if err := q.validate(); err != nil {
		return dst, err
	}
	dst = binary.LittleEndian.AppendUint16(dst, q.Flags)
	dst = append(dst, q.Criteria...)
	dst = append(dst, 0)
	if !q.Hash.IsZero() {
		dst = appendURN(dst, q.Hash)
	}
	if q.WantAnswered {
		if !q.Hash.IsZero() {
			dst = append(dst, extSeparator)
		}
		return AppendGGEP(dst, answeredGGEP)
	}
	return dst, nil
}

// parseQuery decodes a Query payload: flags, NUL-terminated criteria, then an
// extension area running to the end of the payload whose elements (HUGE URNs
// or GGEP blocks) are separated by 0x1C. GGEP blocks are validated and
// ignored; URNs other than urn:blake3 are ignored; a second blake3 URN is an
// error.
func parseQuery(b []byte) (*Query, error) {
	if len(b) < 3 {
		return nil, fmt.Errorf("query: %w", ErrTruncated)
	}
	q := &Query{Flags: binary.LittleEndian.Uint16(b)}
	rest := b[2:]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return nil, fmt.Errorf("criteria terminator: %w", ErrTruncated)
	}
	if !utf8.Valid(rest[:end]) {
		return nil, fmt.Errorf("criteria: %w", ErrBadString)
	}
	q.Criteria = string(rest[:end])
	ext := rest[end+1:]
	seenURN := false
	for len(ext) > 0 {
		if ext[0] == GGEPMagic {
			n, err := walkGGEP(ext, func(id, _ []byte) error {
				if string(id) == KeyAnswered {
					q.WantAnswered = true
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			ext = ext[n:]
		} else {
			i := bytes.IndexByte(ext, extSeparator)
			if i < 0 {
				i = len(ext)
			}
			h, known, err := parseURN(ext[:i])
			if err != nil {
				return nil, err
			}
			if known {
				if seenURN {
					return nil, fmt.Errorf("second urn: %w", ErrBadExtension)
				}
				seenURN = true
				q.Hash = h
			}
			ext = ext[i:]
		}
		if len(ext) > 0 {
			if ext[0] != extSeparator || len(ext) == 1 {
				return nil, fmt.Errorf("query extension separator: %w", ErrBadExtension)
			}
			ext = ext[1:]
		}
	}
	if q.Criteria == "" && q.Hash.IsZero() {
		return nil, ErrEmptyQuery
	}
	return q, nil
}
