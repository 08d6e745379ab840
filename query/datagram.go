package query

import "fmt"

// MarshalDatagram encodes d as a query-plane datagram: PlaneByte followed by
// the descriptor, at most MaxDatagram bytes.
func (d *Descriptor) MarshalDatagram() ([]byte, error) {
	return d.AppendMarshal(append(make([]byte, 0, 1+d.EncodedLen()), PlaneByte))
}

// UnmarshalDatagram decodes a query-plane datagram (plane byte included).
func UnmarshalDatagram(b []byte) (*Descriptor, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("datagram: %w", ErrTruncated)
	}
	if b[0] != PlaneByte {
		return nil, fmt.Errorf("plane byte 0x%02x: %w", b[0], ErrBadPlane)
	}
	return Unmarshal(b[1:])
}
