package query

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/servent-p2p/servent/content"
)

// Query is the payload of a Query (0x80) descriptor.
type Query struct {
	// Flags is the Gnutella "minimum speed" field, used as flags by modern
	// servents: big-endian on the wire (0x8000: the new flag format);
	// carried through unchanged.
	Flags uint16
	// Criteria is the search text (UTF-8, no NUL). It may be empty when Hash is set.
	Criteria string
	// Hash, when not zero, asks for the file with this content hash; it travels
	// as a HUGE "urn:blake3:<hex>" element.
	Hash content.Hash
	// WantAnswered (GGEP "AN") asks every node that processes the query to
	// mark its answer as complete, with an empty hit when it has no match
	// (QueryHit.Answered), so that a search on a small network ends when
	// everyone answered (Result.Answered).
	WantAnswered bool

	// ext is the extension area as received, kept when it holds more than
	// Hash and WantAnswered (another client's GGEP keys, URNs, XML), so that
	// forwarding passes it on byte for byte; nil for queries built here.
	ext []byte
}

// answeredGGEP is the GGEP block of WantAnswered.
var answeredGGEP = []GGEPExt{{ID: KeyAnswered}}

func (q *Query) encodedLen() int {
	n := 2 + len(q.Criteria) + 1
	if q.ext != nil {
		return n + len(q.ext)
	}
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
	dst = binary.BigEndian.AppendUint16(dst, q.Flags)
	dst = append(dst, q.Criteria...)
	dst = append(dst, 0)
	if q.ext != nil {
		return append(dst, q.ext...), nil
	}
	return q.appendExt(dst)
}

// appendExt appends the extension area this servent writes for q.
func (q *Query) appendExt(dst []byte) ([]byte, error) {
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

// parseQuery decodes a Query payload: flags (big-endian), NUL-terminated
// criteria, then an extension area running to the end of the payload (see
// parseQueryExt). An extension area this servent would not write the same
// way is kept verbatim for forwarding.
func parseQuery(b []byte) (*Query, error) {
	if len(b) < 3 {
		return nil, fmt.Errorf("query: %w", ErrTruncated)
	}
	q := &Query{Flags: binary.BigEndian.Uint16(b)}
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
	if err := q.parseExt(ext); err != nil {
		return nil, err
	}
	if q.Criteria == "" && q.Hash.IsZero() {
		return nil, ErrEmptyQuery
	}
	if len(ext) > 0 {
		if own, err := q.appendExt(nil); err != nil || !bytes.Equal(own, ext) {
			q.ext = bytes.Clone(ext)
		}
	}
	return q, nil
}

// parseExt reads a query's extension area, liberally (HUGE 0.94, GGEP
// 0.51): elements are separated by 0x1C or 0x00 (LimeWire ends the area
// with a NUL; HUGE puts "urn:..." between NULs) and empty ones are skipped;
// a GGEP block (0xC3) is walked structurally, "AN" sets WantAnswered and
// other keys are ignored; "urn:blake3:" sets Hash (a second one is
// ErrBadExtension); other URNs and any other string (XML rich queries,
// legacy metadata) are ignored.
func (q *Query) parseExt(ext []byte) error {
	seenURN := false
	for len(ext) > 0 {
		switch ext[0] {
		case 0, extSeparator:
			ext = ext[1:]
		case GGEPMagic:
			n, err := walkGGEP(ext, func(id, _ []byte) error {
				if string(id) == KeyAnswered {
					q.WantAnswered = true
				}
				return nil
			})
			if err != nil {
				return err
			}
			ext = ext[n:]
		default:
			i := bytes.IndexFunc(ext, func(r rune) bool { return r == 0 || r == extSeparator })
			if i < 0 {
				i = len(ext)
			}
			h, known, err := parseURN(ext[:i])
			if err != nil {
				return err
			}
			if known {
				if seenURN {
					return fmt.Errorf("second urn: %w", ErrBadExtension)
				}
				seenURN = true
				q.Hash = h
			}
			ext = ext[i:]
		}
	}
	return nil
}
