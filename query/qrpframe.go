package query

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// This file holds the QRP stream framing; qrp_msg.go holds the
// ROUTE_TABLE_UPDATE payloads and qrp_table.go the table.

// QRP stream constants.
const (
	// ALPNQRP is the ALPN of the QUIC connections on which an ultrapeer
	// sends its QRP table to a mesh neighbour: one stream of
	// ROUTE_TABLE_UPDATE messages back to back, each a descriptor (23-byte
	// header, TTL 1, hops 0, then the payload), the first RESET and PATCH
	// sequence the whole table, the later ones the changes.
	ALPNQRP = "servent-qrp/1"
	// maxRouteTableMsg bounds a received ROUTE_TABLE_UPDATE payload.
	maxRouteTableMsg = 64 << 10
)

// appendRouteTableMsg appends one ROUTE_TABLE_UPDATE descriptor carrying
// payload.
func appendRouteTableMsg(dst []byte, guid GUID, payload []byte) []byte {
	dst = append(dst, guid[:]...)
	dst = append(dst, byte(TypeRouteTable), 1, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// ReadRouteTableMsg reads one ROUTE_TABLE_UPDATE descriptor (header and
// payload) from r and returns its payload. It returns io.EOF unchanged
// when r ends cleanly before a descriptor.
func ReadRouteTableMsg(r io.Reader) ([]byte, error) {
	var h [HeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	if PayloadType(h[16]) != TypeRouteTable {
		return nil, fmt.Errorf("route table message of type 0x%02x: %w", h[16], ErrBadType)
	}
	n := binary.LittleEndian.Uint32(h[19:23])
	if n == 0 || n > maxRouteTableMsg {
		return nil, fmt.Errorf("route table payload of %d bytes: %w", n, ErrTooLong)
	}
	p := make([]byte, n)
	_, err := io.ReadFull(r, p)
	return p, err
}

// WriteRouteTable writes to w, in one Write, the messages that make a
// receiver holding old hold cur (AppendUpdates); old is nil on a new
// stream. It blocks as long as w does; not safe for concurrent use on the
// same w.
func WriteRouteTable(w io.Writer, guid GUID, old, cur *Table) error {
	b, err := AppendUpdates(nil, guid, old, cur)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write route table: %w", err)
	}
	return nil
}

// RouteTableReader reads a neighbour's QRP stream and returns the tables
// it carries. Not safe for concurrent use.
type RouteTableReader struct {
	r    *bufio.Reader
	recv TableReceiver
}

// NewRouteTableReader returns a reader of the QRP stream r.
func NewRouteTableReader(r io.Reader) *RouteTableReader {
	return &RouteTableReader{r: bufio.NewReader(r)}
}

// Next reads messages until one completes a table and returns that table
// (a new Table each time, never mutated). It returns io.EOF when the
// stream ends cleanly between messages, and the first framing or
// ROUTE_TABLE_UPDATE error otherwise; after an error the stream is not
// usable. It blocks as long as the stream does.
func (t *RouteTableReader) Next() (*Table, error) {
	for {
		msg, err := ReadRouteTableMsg(t.r)
		if err != nil {
			return nil, err
		}
		table, err := t.recv.Receive(msg)
		if err != nil || table != nil {
			return table, err
		}
	}
}
