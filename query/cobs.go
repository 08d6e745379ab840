package query

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"fmt"
	"io"
)

// maxInflated bounds a deflated GGEP extension once inflated, so that a
// hostile datagram cannot make a node allocate more.
const maxInflated = 64 << 10

// cobsEncode appends the COBS encoding (Cheshire and Baker, 1997; as
// LimeWire's COBSUtil writes it: no trailing delimiter) of src to dst. The
// result has no 0x00 byte.
func cobsEncode(dst, src []byte) []byte {
	codeAt := len(dst)
	dst = append(dst, 0)
	code := byte(1)
	for _, c := range src {
		if c != 0 {
			dst = append(dst, c)
			code++
		}
		if c == 0 || code == 0xFF {
			dst[codeAt] = code
			codeAt = len(dst)
			dst = append(dst, 0)
			code = 1
		}
	}
	dst[codeAt] = code
	return dst
}

// cobsLen is len(cobsEncode(nil, src)).
func cobsLen(src []byte) int {
	n, run := 1, 0
	for _, c := range src {
		if c != 0 {
			n++
			run++
		}
		if c == 0 || run == 0xFE {
			n++
			run = 0
		}
	}
	return n
}

// cobsDecode decodes COBS data (cobsEncode's inverse).
func cobsDecode(src []byte) ([]byte, error) {
	out := make([]byte, 0, len(src))
	for i := 0; i < len(src); {
		code := int(src[i])
		if code == 0 || i+code > len(src) {
			return nil, fmt.Errorf("cobs block at %d: %w", i, ErrBadGGEP)
		}
		out = append(out, src[i+1:i+code]...)
		i += code
		if code != 0xFF && i < len(src) {
			out = append(out, 0)
		}
	}
	return out, nil
}

// inflate decompresses a deflated GGEP value: a zlib stream, as LimeWire
// and gtk-gnutella write it, or a raw deflate stream; at most maxInflated
// bytes.
func inflate(src []byte) ([]byte, error) {
	var r io.Reader
	if zr, err := zlib.NewReader(bytes.NewReader(src)); err == nil {
		r = zr
	} else {
		r = flate.NewReader(bytes.NewReader(src))
	}
	out, err := io.ReadAll(io.LimitReader(r, maxInflated+1))
	if err != nil || len(out) > maxInflated {
		return nil, fmt.Errorf("deflated ggep value: %w", ErrBadGGEP)
	}
	return out, nil
}
