package query

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Sizes and constants of the query plane.
const (
	// PlaneByte is the first byte of every query-plane datagram on the shared
	// socket (the overlay uses 0x00-0x3F; memberlist is 0x01).
	PlaneByte = 0x02
	// MaxDatagram is the largest query-plane datagram, plane byte included.
	MaxDatagram = 1200
	// MaxDescriptor is the largest descriptor (header + payload).
	MaxDescriptor = MaxDatagram - 1
	// HeaderLen is the size of the Gnutella descriptor header.
	HeaderLen = 23
	// MaxPayload is the largest payload that fits a datagram.
	MaxPayload = MaxDescriptor - HeaderLen
)

// PayloadType is the descriptor payload type (header byte 16).
type PayloadType uint8

// Payload types understood by this servent.
const (
	TypeQuery    PayloadType = 0x80
	TypeQueryHit PayloadType = 0x81
)

// String names the payload type.
func (t PayloadType) String() string {
	switch t {
	case TypeQuery:
		return "query"
	case TypeQueryHit:
		return "query_hit"
	}
	return fmt.Sprintf("type(0x%02x)", uint8(t))
}

// GUID is a descriptor or servent identifier.
type GUID [16]byte

// NewGUID reads 16 random bytes from rand and marks the GUID as a modern
// servent's: byte 8 = 0xFF, byte 15 = 0x00. The caller picks the source
// (crypto/rand in the daemon, a seeded generator in the simulator).
func NewGUID(rand io.Reader) (GUID, error) {
	var g GUID
	if _, err := io.ReadFull(rand, g[:]); err != nil {
		return g, fmt.Errorf("new guid: %w", err)
	}
	g[8] = 0xFF
	g[15] = 0x00
	return g, nil
}

// Header is the 23-byte descriptor header minus the payload length, which is
// computed when encoding.
type Header struct {
	GUID GUID
	Type PayloadType
	TTL  uint8
	Hops uint8
}

// Descriptor is one query-plane message: a header and exactly one payload,
// matching Header.Type. Descriptors handed out by the Router are shared
// between recipients and must be treated as read-only.
type Descriptor struct {
	Header
	Query *Query
	Hit   *QueryHit
}

// consistent reports whether the type and the payload pointers agree.
func (d *Descriptor) consistent() bool {
	switch {
	case d == nil:
		return false
	case d.Type == TypeQuery:
		return d.Query != nil && d.Hit == nil
	case d.Type == TypeQueryHit:
		return d.Hit != nil && d.Query == nil
	}
	return false
}

func (d *Descriptor) payloadLen() (int, error) {
	switch d.Type {
	case TypeQuery:
		if d.Query == nil || d.Hit != nil {
			return 0, fmt.Errorf("query descriptor payload: %w", ErrBadType)
		}
		return d.Query.encodedLen(), nil
	case TypeQueryHit:
		if d.Hit == nil || d.Query != nil {
			return 0, fmt.Errorf("query hit descriptor payload: %w", ErrBadType)
		}
		return d.Hit.encodedLen(), nil
	}
	return 0, fmt.Errorf("%v: %w", d.Type, ErrBadType)
}

// EncodedLen returns the size of the encoded descriptor (header + payload,
// without the plane byte) without encoding it, or 0 when the descriptor's
// type and payload disagree. It does not check the size limit.
func (d *Descriptor) EncodedLen() int {
	n, err := d.payloadLen()
	if err != nil {
		return 0
	}
	return HeaderLen + n
}

// Marshal encodes the descriptor (without the plane byte).
func (d *Descriptor) Marshal() ([]byte, error) {
	return d.AppendMarshal(make([]byte, 0, d.EncodedLen()))
}

// AppendMarshal appends the encoded descriptor to dst. The datagram sender
// typically calls it with dst = []byte{PlaneByte}. It fails with ErrTooLong
// when the descriptor exceeds MaxDescriptor.
func (d *Descriptor) AppendMarshal(dst []byte) ([]byte, error) {
	n, err := d.payloadLen()
	if err != nil {
		return dst, err
	}
	if n > MaxPayload {
		return dst, fmt.Errorf("descriptor %d bytes: %w", HeaderLen+n, ErrTooLong)
	}
	dst = append(dst, d.GUID[:]...)
	dst = append(dst, byte(d.Type), d.TTL, d.Hops)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	if d.Type == TypeQuery {
		return d.Query.appendTo(dst)
	}
	return d.Hit.appendTo(dst)
}

// Unmarshal decodes one descriptor (without the plane byte). The payload
// length must match the input exactly. Strings are copied; nothing aliases b.
func Unmarshal(b []byte) (*Descriptor, error) {
	if len(b) > MaxDescriptor {
		return nil, fmt.Errorf("descriptor %d bytes: %w", len(b), ErrTooLong)
	}
	if len(b) < HeaderLen {
		return nil, fmt.Errorf("header: %w", ErrTruncated)
	}
	d := &Descriptor{}
	copy(d.GUID[:], b[:16])
	d.Type = PayloadType(b[16])
	d.TTL = b[17]
	d.Hops = b[18]
	n := binary.LittleEndian.Uint32(b[19:23])
	payload := b[HeaderLen:]
	switch {
	case n > uint32(len(payload)):
		return nil, fmt.Errorf("payload length %d of %d: %w", n, len(payload), ErrTruncated)
	case n < uint32(len(payload)):
		return nil, fmt.Errorf("payload length %d of %d: %w", n, len(payload), ErrTrailing)
	}
	var err error
	switch d.Type {
	case TypeQuery:
		d.Query, err = parseQuery(payload)
	case TypeQueryHit:
		d.Hit, err = parseQueryHit(payload)
	default:
		return nil, fmt.Errorf("%v: %w", d.Type, ErrBadType)
	}
	if err != nil {
		return nil, fmt.Errorf("%v: %w", d.Type, err)
	}
	return d, nil
}
