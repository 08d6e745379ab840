package ultrapeer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Index-plane format constants. See doc.go for the byte layout.
const (
	// ALPNIndex is the ALPN of the QUIC connections that carry the index
	// plane: a leaf registers its index with an ultrapeer.
	ALPNIndex = "servent-idx/2"
	// ALPNIndexV1 is the index plane before updates in parts (wire
	// version 1): answered with a refusal and a warning, never served.
	ALPNIndexV1 = "servent-idx/1"
	// WireVersion is the index-plane format version carried by Register.
	// Version 2: updates in parts (the More flag), Ack.Dropped, Refuse
	// reason RefuseNotPlanned.
	WireVersion = 2
	// MaxFrameSize bounds a frame's length field (type byte + body).
	MaxFrameSize = 16 << 20
	// MaxIDLen bounds a node ID and each TryUltrapeers entry, in bytes.
	MaxIDLen = 255
	// MaxPathLen bounds an entry's path, in bytes.
	MaxPathLen = 4096
	// MaxKeywordLen bounds one keyword, in bytes.
	MaxKeywordLen = 255
	// MaxKeywords bounds the keywords of one entry.
	MaxKeywords = 255
	// MaxTryUltrapeers bounds the hint list of a Refuse.
	MaxTryUltrapeers = 32
)

// Wire errors. Every decoding error wraps exactly one of them.
var (
	// ErrFrameTooLarge: a length field above MaxFrameSize, or an encoded
	// message that would exceed it.
	ErrFrameTooLarge = errors.New("index frame too large")
	// ErrUnknownFrame: an unassigned frame type byte.
	ErrUnknownFrame = errors.New("unknown index frame type")
	// ErrUnsupportedVersion: a Register with another WireVersion.
	ErrUnsupportedVersion = errors.New("unsupported index wire version")
	// ErrTruncated: the stream or the frame body ended inside a field.
	ErrTruncated = errors.New("truncated index frame")
	// ErrMalformed: a field value the format forbids (non-minimal varint,
	// limit exceeded, invalid UTF-8, unknown flag or reason, trailing
	// bytes).
	ErrMalformed = errors.New("malformed index frame")
)

// FrameType is the type byte of an index-plane frame. The list is
// append-only.
type FrameType uint8

// Frame types.
const (
	FrameRegister FrameType = 0x01
	FrameUpdate   FrameType = 0x02
	FrameAck      FrameType = 0x03
	FrameRefuse   FrameType = 0x04
)

// Message is a decoded index-plane frame: *Register, *Update, *Ack or
// *Refuse.
type Message interface {
	// FrameType returns the frame's type byte.
	FrameType() FrameType
}

// Register is the first frame a leaf sends on an index stream: who it is,
// and (normally) its full index.
type Register struct {
	// Owner identifies the leaf; its ID must match the QUIC peer's
	// membership name, which the caller checks.
	Owner Owner
	// Update is normally a Full index.
	Update Update
}

// Ack confirms that the ultrapeer holds the leaf's index at Version.
type Ack struct {
	Version uint64
	// Dropped counts the entries of the update that the leaf's budget
	// left out of the ultrapeer's index.
	Dropped uint64
}

// Refuse rejects a Register or Update.
type Refuse struct {
	Reason RefuseReason
	// TryUltrapeers suggests other ultrapeers (with RefuseFull).
	TryUltrapeers []string
}

// RefuseReason says why an ultrapeer refused; the list is append-only.
type RefuseReason uint8

// Refuse reasons.
const (
	// RefuseFull: the ultrapeer has its maximum of leaves; try others.
	RefuseFull RefuseReason = 1
	// RefuseVersionGap: resend the full index.
	RefuseVersionGap RefuseReason = 2
	// RefuseBadUpdate: the update was invalid.
	RefuseBadUpdate RefuseReason = 3
	// RefuseNotUltrapeer: the node is not (or no longer) an ultrapeer.
	RefuseNotUltrapeer RefuseReason = 4
	// RefuseNotPlanned: in the ultrapeer's view of the topology it is not
	// one of the leaf's ultrapeers (nor a fallback after a refusal); the
	// leaf plans again without it for a moment. TryUltrapeers lists the
	// leaf's ultrapeers in that view.
	RefuseNotPlanned RefuseReason = 5
	maxRefuseReason               = RefuseNotPlanned
)

// String names the reason.
func (r RefuseReason) String() string {
	switch r {
	case RefuseFull:
		return "full"
	case RefuseVersionGap:
		return "version gap"
	case RefuseBadUpdate:
		return "bad update"
	case RefuseNotUltrapeer:
		return "not an ultrapeer"
	case RefuseNotPlanned:
		return "not one of this leaf's ultrapeers"
	}
	return "unknown"
}

// FrameType implements Message.
func (*Register) FrameType() FrameType { return FrameRegister }

// FrameType implements Message.
func (*Update) FrameType() FrameType { return FrameUpdate }

// FrameType implements Message.
func (*Ack) FrameType() FrameType { return FrameAck }

// FrameType implements Message.
func (*Refuse) FrameType() FrameType { return FrameRefuse }

var (
	_ Message = (*Register)(nil)
	_ Message = (*Update)(nil)
	_ Message = (*Ack)(nil)
	_ Message = (*Refuse)(nil)
)

// AppendFrame appends m, framed, to dst. It fails on a value the format
// cannot carry (limits, negative size, invalid UTF-8) and never writes a
// frame that ReadFrame would reject.
func AppendFrame(dst []byte, m Message) ([]byte, error) {
	var body []byte
	var err error
	switch m := m.(type) {
	case *Register:
		body, err = appendRegister([]byte{byte(FrameRegister)}, m)
	case *Update:
		body, err = appendUpdate([]byte{byte(FrameUpdate)}, m)
	case *Ack:
		body = binary.AppendUvarint([]byte{byte(FrameAck)}, m.Version)
		body = binary.AppendUvarint(body, m.Dropped)
	case *Refuse:
		body, err = appendRefuse([]byte{byte(FrameRefuse)}, m)
	default:
		return dst, fmt.Errorf("%w: %T", ErrUnknownFrame, m)
	}
	if err != nil {
		return dst, err
	}
	if len(body) > MaxFrameSize {
		return dst, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(body))
	}
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	return append(dst, body...), nil
}

// WriteFrame encodes m and writes it to w in one Write. It blocks as long
// as w does; not safe for concurrent use on the same w.
func WriteFrame(w io.Writer, m Message) error {
	b, err := AppendFrame(nil, m)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write index frame: %w", err)
	}
	return nil
}

// ReadFrame reads and strictly decodes one frame from r. It returns io.EOF
// unchanged when r ends cleanly before a frame, and an error wrapping
// ErrTruncated when r ends inside one. It blocks as long as r does; memory
// grows with the bytes actually received, not with the announced length.
func ReadFrame(r io.Reader) (Message, error) {
	n, err := readUvarint(r)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: empty frame", ErrMalformed)
	}
	if n > MaxFrameSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	var buf bytes.Buffer
	buf.Grow(int(min(n, 64<<10)))
	if _, err := io.CopyN(&buf, r, int64(n)); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: body", ErrTruncated)
		}
		return nil, fmt.Errorf("read index frame: %w", err)
	}
	return decodeBody(buf.Bytes())
}

// readUvarint reads a minimal uvarint length prefix.
func readUvarint(r io.Reader) (uint64, error) {
	var b [binary.MaxVarintLen64]byte
	for i := range b {
		if _, err := io.ReadFull(r, b[i:i+1]); err != nil {
			if i == 0 && errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, fmt.Errorf("%w: length", ErrTruncated)
			}
			return 0, fmt.Errorf("read index frame: %w", err)
		}
		if b[i] < 0x80 {
			d := decoder{b: b[:i+1]}
			v := d.uvarint("length")
			return v, d.err
		}
	}
	return 0, fmt.Errorf("%w: length varint too long", ErrMalformed)
}

// decodeBody decodes a frame body (type byte first).
func decodeBody(b []byte) (Message, error) {
	d := decoder{b: b[1:]}
	var m Message
	switch FrameType(b[0]) {
	case FrameRegister:
		m = d.register()
	case FrameUpdate:
		u := d.update()
		m = &u
	case FrameAck:
		m = &Ack{Version: d.uvarint("ack version"), Dropped: d.uvarint("ack dropped")}
	case FrameRefuse:
		m = d.refuse()
	default:
		return nil, fmt.Errorf("%w: 0x%02x", ErrUnknownFrame, b[0])
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail(ErrMalformed, "%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}
