package query

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/servent-p2p/servent/content"
)

// FileResult is one file in a QueryHit.
type FileResult struct {
	Index uint32
	// Size is the file size; sizes ≥ 0xFFFFFFFF travel in GGEP "LF".
	Size uint64
	// Name is the file's share-relative path (UTF-8, no NUL, not empty).
	Name string
	// Hash is the content hash, written as a HUGE urn:blake3 element. Required.
	Hash content.Hash
	// Partial: the responder holds only the chunks it has verified of a
	// download in progress (GGEP "PR"); it says which when asked.
	Partial bool
}

func (r *FileResult) encodedLen() int {
	n := resultFixed + len(r.Name) + 1 + URNLen + 1
	var buf [8]byte
	if exts := r.ggepExts(&buf); len(exts) > 0 {
		n += 1 + GGEPLen(exts) // separator + GGEP
	}
	return n
}

// ggepExts is the result's GGEP block, nil when it needs none: "LF" for a
// result of 4 GiB or more (the size little-endian in minimal bytes,
// COBS-encoded when it holds a 0x00, as a result's extension block is
// NUL-terminated), "PR" for a partial one. buf backs the data.
func (r *FileResult) ggepExts(buf *[8]byte) []GGEPExt {
	var exts []GGEPExt
	if r.Size >= size32Escape {
		binary.LittleEndian.PutUint64(buf[:], r.Size)
		exts = append(exts, GGEPExt{ID: KeyLargeFile, Data: buf[:largeFileLen(r.Size)], COBS: true})
	}
	if r.Partial {
		exts = append(exts, GGEPExt{ID: KeyPartial})
	}
	return exts
}

func largeFileLen(size uint64) int {
	n := 1
	for size >>= 8; size > 0; size >>= 8 {
		n++
	}
	return n
}

func (r *FileResult) appendTo(dst []byte) ([]byte, error) {
	if r.Name == "" || !utf8.ValidString(r.Name) || bytes.IndexByte([]byte(r.Name), 0) >= 0 {
		return dst, fmt.Errorf("result name %.32q: %w", r.Name, ErrBadString)
	}
	if r.Hash.IsZero() {
		return dst, fmt.Errorf("result %.32q without hash: %w", r.Name, ErrBadURN)
	}
	dst = binary.LittleEndian.AppendUint32(dst, r.Index)
	if r.Size >= size32Escape {
		dst = binary.LittleEndian.AppendUint32(dst, size32Escape)
	} else {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(r.Size))
	}
	dst = append(dst, r.Name...)
	dst = append(dst, 0)
	dst = appendURN(dst, r.Hash)
	var buf [8]byte
	if exts := r.ggepExts(&buf); len(exts) > 0 {
		dst = append(dst, extSeparator)
		var err error
		if dst, err = AppendGGEP(dst, exts); err != nil {
			return dst, err
		}
	}
	return append(dst, 0), nil
}

// parseResult decodes one result and returns the bytes it used. A result
// that is well formed but that this servent cannot use (no urn:blake3, as
// other clients' results with only urn:sha1; a size escape without "LF") is
// consumed with usable false: the caller drops that result, not the hit.
func parseResult(b []byte, r *FileResult) (n int, usable bool, err error) {
	if len(b) < resultFixed {
		return 0, false, fmt.Errorf("result header: %w", ErrTruncated)
	}
	r.Index = binary.LittleEndian.Uint32(b[0:4])
	size32 := binary.LittleEndian.Uint32(b[4:8])
	r.Size = uint64(size32)
	p := resultFixed
	end := bytes.IndexByte(b[p:], 0)
	if end < 0 {
		return 0, false, fmt.Errorf("name terminator: %w", ErrTruncated)
	}
	name := b[p : p+end]
	if len(name) == 0 || !utf8.Valid(name) {
		return 0, false, fmt.Errorf("name: %w", ErrBadString)
	}
	r.Name = string(name)
	p += end + 1
	n, usable, err = r.parseExtensions(b[p:], size32 == size32Escape)
	if err != nil {
		return 0, false, err
	}
	return p + n, usable, nil
}

// parseExtensions decodes a result's extension block, up to and including
// its NUL terminator, and returns the bytes it used and whether the result
// is usable: it has a urn:blake3 and, when its 32-bit size is the escape,
// an "LF" size. The block is read liberally: elements separated by 0x1C,
// unknown strings (legacy metadata, other URNs) ignored, GGEP blocks walked
// structurally, "LF" (from 2^31, as real clients write it) gives the size,
// "PR" or any key starting with it (whatever the data) marks the result
// partial.
func (r *FileResult) parseExtensions(b []byte, sizeEscaped bool) (n int, usable bool, err error) {
	var haveURN, haveLF bool
	p := 0
	for {
		if p >= len(b) {
			return 0, false, fmt.Errorf("extension block terminator: %w", ErrTruncated)
		}
		switch b[p] {
		case 0:
			p++
			return p, haveURN && (haveLF || !sizeEscaped), nil
		case extSeparator:
			p++
			continue
		case GGEPMagic:
			n, err := walkGGEP(b[p:], func(id, data []byte) error {
				if string(id) == KeyLargeFile {
					haveLF = true
					return r.setLargeSize(data)
				}
				// "PR", and LimeWire's "PR0".."PR4" (the ranges held, by
				// size class: not needed, the holder is asked) and "PRU".
				r.Partial = r.Partial || bytes.HasPrefix(id, []byte(KeyPartial))
				return nil
			})
			if err != nil {
				return 0, false, err
			}
			p += n
		default:
			i := p
			for i < len(b) && b[i] != 0 && b[i] != extSeparator {
				i++
			}
			h, known, err := parseURN(b[p:i])
			if err != nil {
				return 0, false, err
			}
			if known {
				if haveURN {
					return 0, false, fmt.Errorf("second urn: %w", ErrBadExtension)
				}
				haveURN = true
				r.Hash = h
			}
			p = i
		}
	}
}

// setLargeSize sets the size from the data of a GGEP "LF" extension: 1 to
// 8 bytes, little-endian.
func (r *FileResult) setLargeSize(data []byte) error {
	if len(data) == 0 || len(data) > 8 {
		return fmt.Errorf("%s length %d: %w", KeyLargeFile, len(data), ErrBadGGEP)
	}
	var v [8]byte
	copy(v[:], data)
	r.Size = binary.LittleEndian.Uint64(v[:])
	return nil
}
