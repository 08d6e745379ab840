package query

import (
	"bytes"
	"fmt"
)

// GGEP (Gnutella Generic Extension Protocol 0.51) framing.
const (
	// GGEPMagic is the first byte of every GGEP block.
	GGEPMagic = 0xC3
	// MaxGGEPData is the largest extension payload the 3-byte length can express.
	MaxGGEPData = 1<<18 - 1

	ggepLast       = 0x80 // flags: last extension of the block
	ggepEncoded    = 0x40 // flags: COBS encoded
	ggepCompressed = 0x20 // flags: deflate compressed
	ggepReserved   = 0x10 // flags: must be zero
	ggepIDMask     = 0x0F // flags: ID length 1..15
	lenMore        = 0x80 // length byte: another length byte follows
	lenLast        = 0x40 // length byte: last length byte
)

// GGEP keys this servent reads and writes (see docs/PROTOCOL.md).
const (
	KeyLargeFile   = "LF" // result: 64-bit file size, little-endian, minimal bytes
	KeyPartial     = "PR" // result: the responder holds only part of the file (PFSP); empty, data ignored
	KeyIPv6        = "6"  // QHD: 16-byte IPv6 address
	KeyQUICPort    = "QP" // QHD: QUIC port, uint16 little-endian
	KeyFingerprint = "FP" // QHD: 32-byte public-key fingerprint
	KeyNodeName    = "NN" // QHD: node name, UTF-8
	KeyAnswered    = "AN" // query: empty, answers wanted; QHD: uint16 LE parts + answering node name
	KeyDone        = "DQ" // QHD: empty, the ultrapeer's dynamic query for this GUID ended
)

// GGEPExt is one GGEP extension: an ID of 1..15 bytes (no NUL) and its data.
type GGEPExt struct {
	ID   string
	Data []byte
	// COBS: the data is written COBS-encoded when it holds a 0x00 byte
	// (where the block sits in NUL-terminated text, as in a result's
	// extension block). ParseGGEP sets it for data that was encoded.
	COBS bool
}

// cobs reports whether e's data is written COBS-encoded.
func (e *GGEPExt) cobs() bool { return e.COBS && bytes.IndexByte(e.Data, 0) >= 0 }

// wireLen is the length of e's data as written.
func (e *GGEPExt) wireLen() int {
	if e.cobs() {
		return cobsLen(e.Data)
	}
	return len(e.Data)
}

// GGEPLen returns the encoded size of a GGEP block holding exts, magic byte
// included. It does not validate; AppendGGEP does.
func GGEPLen(exts []GGEPExt) int {
	n := 1
	for i := range exts {
		l := exts[i].wireLen()
		n += 1 + len(exts[i].ID) + ggepLenBytes(l) + l
	}
	return n
}

func ggepLenBytes(n int) int {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<12:
		return 2
	default:
		return 3
	}
}

// AppendGGEP appends a GGEP block holding exts (at least one) to dst. Data is
// written raw, or COBS-encoded when GGEPExt.COBS asks and it holds a 0x00;
// never compressed.
func AppendGGEP(dst []byte, exts []GGEPExt) ([]byte, error) {
	if len(exts) == 0 {
		return dst, fmt.Errorf("empty block: %w", ErrBadGGEP)
	}
	dst = append(dst, GGEPMagic)
	for i, e := range exts {
		if err := checkGGEPID(e.ID); err != nil {
			return dst, err
		}
		l := e.wireLen()
		if l > MaxGGEPData {
			return dst, fmt.Errorf("ggep %q: %d bytes: %w", e.ID, l, ErrTooLong)
		}
		flags := byte(len(e.ID))
		if i == len(exts)-1 {
			flags |= ggepLast
		}
		if e.cobs() {
			flags |= ggepEncoded
		}
		dst = append(dst, flags)
		dst = append(dst, e.ID...)
		dst = appendGGEPLen(dst, l)
		if e.cobs() {
			dst = cobsEncode(dst, e.Data)
		} else {
			dst = append(dst, e.Data...)
		}
	}
	return dst, nil
}

func checkGGEPID(id string) error {
	if len(id) == 0 || len(id) > ggepIDMask {
		return fmt.Errorf("ggep id length %d: %w", len(id), ErrBadGGEP)
	}
	for i := 0; i < len(id); i++ {
		if id[i] == 0 {
			return fmt.Errorf("ggep id with nul: %w", ErrBadGGEP)
		}
	}
	return nil
}

func appendGGEPLen(dst []byte, n int) []byte {
	switch ggepLenBytes(n) {
	case 1:
		return append(dst, lenLast|byte(n))
	case 2:
		return append(dst, lenMore|byte(n>>6), lenLast|byte(n&0x3F))
	default:
		return append(dst, lenMore|byte(n>>12), lenMore|byte(n>>6&0x3F), lenLast|byte(n&0x3F))
	}
}

// ParseGGEP decodes the GGEP block at the start of b and returns its
// extensions (COBS-decoded and inflated; an extension that cannot be
// decoded is left out) and the number of bytes it used. Raw data slices
// alias b.
func ParseGGEP(b []byte) ([]GGEPExt, int, error) {
	var exts []GGEPExt
	n, err := walkGGEPFlags(b, func(id, data []byte, flags byte) error {
		exts = append(exts, GGEPExt{ID: string(id), Data: data, COBS: flags&ggepEncoded != 0})
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return exts, n, nil
}

// walkGGEP decodes the GGEP block at the start of b, calling fn for every
// extension in order with its data (COBS-decoded and inflated when its
// flags say so; an extension whose data cannot be decoded is skipped, as
// the GGEP spec's "be liberal" asks), and returns the block's length. A
// duplicate ID is an error. It allocates nothing itself for raw data.
func walkGGEP(b []byte, fn func(id, data []byte) error) (int, error) {
	return walkGGEPFlags(b, func(id, data []byte, _ byte) error { return fn(id, data) })
}

// walkGGEPFlags is walkGGEP that also passes each extension's flags.
func walkGGEPFlags(b []byte, fn func(id, data []byte, flags byte) error) (int, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("ggep magic: %w", ErrTruncated)
	}
	if b[0] != GGEPMagic {
		return 0, fmt.Errorf("ggep magic 0x%02x: %w", b[0], ErrBadGGEP)
	}
	var ids [16][]byte // duplicate detection for the first 16 IDs, no allocation
	count := 0
	p := 1
	for {
		flags, id, used, err := ggepExtHeader(b[p:])
		if err != nil {
			return 0, err
		}
		p += used
		for i := 0; i < count && i < len(ids); i++ {
			if string(ids[i]) == string(id) {
				return 0, fmt.Errorf("ggep duplicate id %q: %w", id, ErrBadGGEP)
			}
		}
		if count < len(ids) {
			ids[count] = id
		} else {
			return 0, fmt.Errorf("ggep more than %d extensions: %w", len(ids), ErrTooLong)
		}
		count++
		dataLen, used, err := parseGGEPLen(b[p:])
		if err != nil {
			return 0, err
		}
		p += used
		if len(b)-p < dataLen {
			return 0, fmt.Errorf("ggep %q data: %w", id, ErrTruncated)
		}
		if data, ok := ggepData(b[p:p+dataLen], flags); ok {
			if err := fn(id, data, flags); err != nil {
				return 0, err
			}
		}
		p += dataLen
		if flags&ggepLast != 0 {
			return p, nil
		}
	}
}

// ggepExtHeader decodes the flags byte and the ID of the extension at the
// start of b and returns them with the bytes they use.
func ggepExtHeader(b []byte) (flags byte, id []byte, n int, err error) {
	if len(b) == 0 {
		return 0, nil, 0, fmt.Errorf("ggep flags: %w", ErrTruncated)
	}
	flags = b[0]
	if flags&ggepReserved != 0 {
		return 0, nil, 0, fmt.Errorf("ggep reserved flag: %w", ErrBadGGEP)
	}
	idLen := int(flags & ggepIDMask)
	if idLen == 0 {
		return 0, nil, 0, fmt.Errorf("ggep empty id: %w", ErrBadGGEP)
	}
	if len(b)-1 < idLen {
		return 0, nil, 0, fmt.Errorf("ggep id: %w", ErrTruncated)
	}
	id = b[1 : 1+idLen]
	for _, c := range id {
		if c == 0 {
			return 0, nil, 0, fmt.Errorf("ggep id with nul: %w", ErrBadGGEP)
		}
	}
	return flags, id, 1 + idLen, nil
}

// ggepData returns an extension's data as its flags say: COBS-decoded
// (encoding is applied after compression), then inflated; ok is false when
// it cannot be decoded.
func ggepData(raw []byte, flags byte) (data []byte, ok bool) {
	data = raw
	var err error
	if flags&ggepEncoded != 0 {
		if data, err = cobsDecode(data); err != nil {
			return nil, false
		}
	}
	if flags&ggepCompressed != 0 {
		if data, err = inflate(data); err != nil {
			return nil, false
		}
	}
	return data, true
}

// parseGGEPLen decodes a 1..3 byte GGEP data length. Each byte carries 6 bits
// of the length (most significant first) and exactly one of 0x80 (more
// follows) or 0x40 (last). Non-minimal encodings (a leading zero chunk) are
// rejected so that every length has one encoding.
func parseGGEPLen(b []byte) (n, used int, err error) {
	for i := 0; i < 3; i++ {
		if i >= len(b) {
			return 0, 0, fmt.Errorf("ggep length: %w", ErrTruncated)
		}
		c := b[i]
		more, last := c&lenMore != 0, c&lenLast != 0
		if more == last {
			return 0, 0, fmt.Errorf("ggep length byte 0x%02x: %w", c, ErrBadGGEP)
		}
		if i == 0 && more && c&0x3F == 0 {
			return 0, 0, fmt.Errorf("ggep non-minimal length: %w", ErrBadGGEP)
		}
		n = n<<6 | int(c&0x3F)
		if last {
			return n, i + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("ggep length over 3 bytes: %w", ErrBadGGEP)
}
