package query

import "fmt"

// GGEP (Gnutella Generic Extension Protocol 0.51) framing.
const (
	// GGEPMagic is the first byte of every GGEP block.
	GGEPMagic = 0xC3
	// MaxGGEPData is the largest extension payload the 3-byte length can express.
	MaxGGEPData = 1<<18 - 1

	ggepLast       = 0x80 // flags: last extension of the block
	ggepEncoded    = 0x40 // flags: COBS encoded (unsupported)
	ggepCompressed = 0x20 // flags: deflate compressed (unsupported)
	ggepReserved   = 0x10 // flags: must be zero
	ggepIDMask     = 0x0F // flags: ID length 1..15
	lenMore        = 0x80 // length byte: another length byte follows
	lenLast        = 0x40 // length byte: last length byte
)

// GGEP keys this servent reads and writes (see docs/PROTOCOL.md).
const (
	KeyLargeFile   = "LF" // result: 64-bit file size, little-endian, minimal bytes
	KeyIPv6        = "6"  // QHD: 16-byte IPv6 address
	KeyQUICPort    = "QP" // QHD: QUIC port, uint16 little-endian
	KeyFingerprint = "FP" // QHD: 32-byte public-key fingerprint
	KeyNodeName    = "NN" // QHD: node name, UTF-8
	KeyAnswered    = "AN" // query: empty, answers wanted; QHD: uint16 LE parts + answering node name
)

// GGEPExt is one GGEP extension: an ID of 1..15 bytes (no NUL) and its data.
type GGEPExt struct {
	ID   string
	Data []byte
}

// GGEPLen returns the encoded size of a GGEP block holding exts, magic byte
// included. It does not validate; AppendGGEP does.
func GGEPLen(exts []GGEPExt) int {
	n := 1
	for _, e := range exts {
		n += 1 + len(e.ID) + ggepLenBytes(len(e.Data)) + len(e.Data)
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
// written raw: never COBS-encoded, never compressed.
func AppendGGEP(dst []byte, exts []GGEPExt) ([]byte, error) {
	if len(exts) == 0 {
		return dst, fmt.Errorf("empty block: %w", ErrBadGGEP)
	}
	dst = append(dst, GGEPMagic)
	for i, e := range exts {
		if err := checkGGEPID(e.ID); err != nil {
			return dst, err
		}
		if len(e.Data) > MaxGGEPData {
			return dst, fmt.Errorf("ggep %q: %d bytes: %w", e.ID, len(e.Data), ErrTooLong)
		}
		flags := byte(len(e.ID))
		if i == len(exts)-1 {
			flags |= ggepLast
		}
		dst = append(dst, flags)
		dst = append(dst, e.ID...)
		dst = appendGGEPLen(dst, len(e.Data))
		dst = append(dst, e.Data...)
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
// extensions and the number of bytes it used. Data slices alias b.
func ParseGGEP(b []byte) ([]GGEPExt, int, error) {
	var exts []GGEPExt
	n, err := walkGGEP(b, func(id, data []byte) error {
		exts = append(exts, GGEPExt{ID: string(id), Data: data})
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return exts, n, nil
}

// walkGGEP decodes the GGEP block at the start of b, calling fn for every
// extension in order, and returns the block's length. A duplicate ID is an
// error. It allocates nothing itself.
func walkGGEP(b []byte, fn func(id, data []byte) error) (int, error) {
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
		if p >= len(b) {
			return 0, fmt.Errorf("ggep flags: %w", ErrTruncated)
		}
		flags := b[p]
		p++
		if flags&ggepReserved != 0 {
			return 0, fmt.Errorf("ggep reserved flag: %w", ErrBadGGEP)
		}
		if flags&(ggepEncoded|ggepCompressed) != 0 {
			return 0, fmt.Errorf("ggep flags 0x%02x: %w", flags, ErrGGEPUnsupported)
		}
		idLen := int(flags & ggepIDMask)
		if idLen == 0 {
			return 0, fmt.Errorf("ggep empty id: %w", ErrBadGGEP)
		}
		if len(b)-p < idLen {
			return 0, fmt.Errorf("ggep id: %w", ErrTruncated)
		}
		id := b[p : p+idLen]
		p += idLen
		for _, c := range id {
			if c == 0 {
				return 0, fmt.Errorf("ggep id with nul: %w", ErrBadGGEP)
			}
		}
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
		if err := fn(id, b[p:p+dataLen]); err != nil {
			return 0, err
		}
		p += dataLen
		if flags&ggepLast != 0 {
			return p, nil
		}
	}
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
