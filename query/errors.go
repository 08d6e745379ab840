package query

import "errors"

// Decoding and encoding errors. Every decoder returns one of these (possibly
// wrapped with context); callers branch with errors.Is and count them.
var (
	// ErrTruncated: the input ends before a field it announces.
	ErrTruncated = errors.New("truncated")
	// ErrTooLong: a descriptor or field exceeds its size limit.
	ErrTooLong = errors.New("too long")
	// ErrTrailing: bytes left over after a complete structure.
	ErrTrailing = errors.New("trailing bytes")
	// ErrBadType: unknown descriptor payload type.
	ErrBadType = errors.New("unknown payload type")
	// ErrBadGGEP: a malformed GGEP block or a GGEP extension with a bad value.
	ErrBadGGEP = errors.New("malformed ggep")
	// ErrBadURN: a malformed urn:blake3 HUGE URN, or a missing one where required.
	ErrBadURN = errors.New("malformed urn")
	// ErrBadExtension: an extension block element that is neither a URN nor GGEP.
	ErrBadExtension = errors.New("malformed extension")
	// ErrBadString: a string that is not valid UTF-8, contains NUL or is empty where it may not be.
	ErrBadString = errors.New("malformed string")
	// ErrBadCount: a QueryHit whose hit count is zero or does not fit one byte.
	ErrBadCount = errors.New("bad hit count")
	// ErrEmptyQuery: a Query with neither search words nor a URN.
	ErrEmptyQuery = errors.New("empty query")
	// ErrBadPatch: a QRP patch that cannot be applied.
	ErrBadPatch = errors.New("malformed qrp patch")
)

// ErrBadPlane: a datagram whose first byte is not PlaneByte.
var ErrBadPlane = errors.New("not a query-plane datagram")
