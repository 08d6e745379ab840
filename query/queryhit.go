package query

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"unicode/utf8"

	"github.com/servent-p2p/servent/content"
)

// QueryHit constants.
const (
	// VendorCode is the QHD vendor code this servent writes.
	VendorCode = "SRVT"
	// MaxNodeName bounds the node name carried in GGEP "NN".
	MaxNodeName = 255
	// FingerprintLen is the size of the key fingerprint in GGEP "FP".
	FingerprintLen = 32

	qhdFlagGGEP  = 0x20 // QHD open data: GGEP block present in the private area
	hitFixedLen  = 11   // count, port, IPv4, speed
	resultFixed  = 8    // index, size
	qhdFixedLen  = 4 + 1 + 2
	serventIDLen = 16
	size32Escape = 0xFFFFFFFF
)

// QueryHit is the payload of a QueryHit (0x81) descriptor.
type QueryHit struct {
	// Port and Addr are the Gnutella IPv4 endpoint of the responder. Addr must
	// be IPv4 (or invalid, written as 0.0.0.0).
	Port  uint16
	Addr  netip.Addr
	Speed uint32
	// Results are the matching files: 1..255 per descriptor (see SplitHits).
	Results []FileResult
	// Vendor is the QHD vendor code; zero writes VendorCode.
	Vendor [4]byte
	// IPv6 (GGEP "6"), QUICPort (GGEP "QP"), Fingerprint (GGEP "FP") and Node
	// (GGEP "NN") are written only when set.
	IPv6        netip.Addr
	QUICPort    uint16
	Fingerprint [FingerprintLen]byte
	Node        string
	// ServentID is the responder's 16-byte servent identifier.
	ServentID GUID
	// Answered (GGEP "AN"), when set, says that this descriptor is one of
	// the Answered.Parts descriptors with which node Answered.Node answered
	// a query that asked for it (Query.WantAnswered). Only such a hit may
	// have no results: a node with no match answers with one empty hit.
	Answered *Answer
	// Done (GGEP "DQ") says that the ultrapeer that ran this query
	// dynamically for the leaf (DynamicConfig) has stopped querying: no
	// more hits will be asked for. Such a hit may have no results.
	Done bool
}

// Answer marks a node's complete answer to a query (GGEP "AN" in the QHD).
type Answer struct {
	// Node is the answering node's name (UTF-8, 1..255 bytes); for a leaf's
	// files it is the ultrapeer, not the leaf.
	Node string
	// Parts is how many hit descriptors the node sent for the query, this
	// one included (1..65535).
	Parts uint16
}

// FileResult is one file in a QueryHit.
type FileResult struct {
	Index uint32
	// Size is the file size; sizes ≥ 0xFFFFFFFF travel in GGEP "LF".
	Size uint64
	// Name is the file's share-relative path (UTF-8, no NUL, not empty).
	Name string
	// Hash is the content hash, written as a HUGE urn:blake3 element. Required.
	Hash content.Hash
}

func (r *FileResult) encodedLen() int {
	n := resultFixed + len(r.Name) + 1 + URNLen + 1
	if r.Size >= size32Escape {
		var buf [8]byte
		n += 1 + GGEPLen(r.largeFileExt(&buf)) // separator + GGEP
	}
	return n
}

// largeFileExt is the GGEP "LF" extension of a result of 4 GiB or more:
// the size little-endian in minimal bytes, COBS-encoded when it holds a
// 0x00 (a result's extension block is NUL-terminated). buf backs the data.
func (r *FileResult) largeFileExt(buf *[8]byte) []GGEPExt {
	binary.LittleEndian.PutUint64(buf[:], r.Size)
	return []GGEPExt{{ID: KeyLargeFile, Data: buf[:largeFileLen(r.Size)], COBS: true}}
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
	if r.Size >= size32Escape {
		var buf [8]byte
		dst = append(dst, extSeparator)
		var err error
		if dst, err = AppendGGEP(dst, r.largeFileExt(&buf)); err != nil {
			return dst, err
		}
	}
	return append(dst, 0), nil
}

// qhdGGEP appends to exts the QHD GGEP extensions in the order they are
// written. buf backs the small fixed-size values.
func (h *QueryHit) qhdGGEP(exts []GGEPExt, buf *[2]byte, ip *[16]byte, an []byte) []GGEPExt {
	if h.IPv6.Is6() {
		*ip = h.IPv6.As16()
		exts = append(exts, GGEPExt{ID: KeyIPv6, Data: ip[:]})
	}
	if h.QUICPort != 0 {
		binary.LittleEndian.PutUint16(buf[:], h.QUICPort)
		exts = append(exts, GGEPExt{ID: KeyQUICPort, Data: buf[:]})
	}
	if h.Fingerprint != ([FingerprintLen]byte{}) {
		exts = append(exts, GGEPExt{ID: KeyFingerprint, Data: h.Fingerprint[:]})
	}
	if h.Node != "" {
		exts = append(exts, GGEPExt{ID: KeyNodeName, Data: []byte(h.Node)})
	}
	if h.Answered != nil {
		exts = append(exts, GGEPExt{ID: KeyAnswered, Data: binary.LittleEndian.AppendUint16(an[:0:len(an)], h.Answered.Parts)})
		exts[len(exts)-1].Data = append(exts[len(exts)-1].Data, h.Answered.Node...)
	}
	if h.Done {
		exts = append(exts, GGEPExt{ID: KeyDone})
	}
	return exts
}

// trailerLen is the size of everything after the result set: QHD, GGEP, servent ID.
func (h *QueryHit) trailerLen() int {
	n := qhdFixedLen + serventIDLen
	g := 1 // magic
	if h.IPv6.Is6() {
		g += 1 + 1 + 1 + 16
	}
	if h.QUICPort != 0 {
		g += 1 + 2 + 1 + 2
	}
	if h.Fingerprint != ([FingerprintLen]byte{}) {
		g += 1 + 2 + ggepLenBytes(FingerprintLen) + FingerprintLen
	}
	if h.Node != "" {
		g += 1 + 2 + ggepLenBytes(len(h.Node)) + len(h.Node)
	}
	if h.Answered != nil {
		l := 2 + len(h.Answered.Node)
		g += 1 + 2 + ggepLenBytes(l) + l
	}
	if h.Done {
		g += 1 + 2 + 1
	}
	if g > 1 {
		n += g
	}
	return n
}

func (h *QueryHit) encodedLen() int {
	n := hitFixedLen + h.trailerLen()
	for i := range h.Results {
		n += h.Results[i].encodedLen()
	}
	return n
}

func (h *QueryHit) appendTo(dst []byte) ([]byte, error) {
	if (len(h.Results) == 0 && h.Answered == nil && !h.Done) || len(h.Results) > 255 {
		return dst, fmt.Errorf("%d results: %w", len(h.Results), ErrBadCount)
	}
	if len(h.Node) > MaxNodeName || !utf8.ValidString(h.Node) {
		return dst, fmt.Errorf("node name: %w", ErrBadString)
	}
	if a := h.Answered; a != nil && (a.Parts == 0 || !validNodeName(a.Node)) {
		return dst, fmt.Errorf("answer mark %q parts %d: %w", a.Node, a.Parts, ErrBadGGEP)
	}
	dst = append(dst, byte(len(h.Results)))
	dst = binary.LittleEndian.AppendUint16(dst, h.Port)
	var ip [4]byte
	if a := h.Addr.Unmap(); a.Is4() {
		ip = a.As4()
	}
	dst = append(dst, ip[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, h.Speed)
	for i := range h.Results {
		var err error
		if dst, err = h.Results[i].appendTo(dst); err != nil {
			return dst, err
		}
	}
	vendor := h.Vendor
	if vendor == ([4]byte{}) {
		copy(vendor[:], VendorCode)
	}
	dst = append(dst, vendor[:]...)
	var (
		buf  [2]byte
		ip6  [16]byte
		an   [2 + MaxNodeName]byte
		arr  [5]GGEPExt
		exts = h.qhdGGEP(arr[:0], &buf, &ip6, an[:])
	)
	var flags byte
	if len(exts) > 0 {
		flags = qhdFlagGGEP
	}
	dst = append(dst, 2, flags, qhdFlagGGEP) // open data size, flags, flags-valid mask
	if len(exts) > 0 {
		var err error
		if dst, err = AppendGGEP(dst, exts); err != nil {
			return dst, err
		}
	}
	return append(dst, h.ServentID[:]...), nil
}

func parseQueryHit(b []byte) (*QueryHit, error) {
	if len(b) < hitFixedLen {
		return nil, fmt.Errorf("hit header: %w", ErrTruncated)
	}
	count := int(b[0])
	h := &QueryHit{
		Port:  binary.LittleEndian.Uint16(b[1:3]),
		Addr:  netip.AddrFrom4([4]byte(b[3:7])),
		Speed: binary.LittleEndian.Uint32(b[7:11]),
	}
	p := hitFixedLen
	h.Results = make([]FileResult, 0, count)
	dropped := 0
	for i := range count {
		var r FileResult
		n, usable, err := parseResult(b[p:], &r)
		if err != nil {
			return nil, fmt.Errorf("result %d: %w", i, err)
		}
		p += n
		if usable {
			h.Results = append(h.Results, r)
		} else {
			dropped++
		}
	}
	if err := h.parseTrailer(b[p:]); err != nil {
		return nil, err
	}
	switch {
	case count == 0 && h.Answered == nil && !h.Done:
		return nil, ErrBadCount
	case count > 0 && len(h.Results) == 0 && h.Answered == nil && !h.Done:
		return nil, fmt.Errorf("none of %d results has a urn:blake3 and a size: %w", dropped, ErrBadURN)
	}
	return h, nil
}

func validNodeName(s string) bool { return len(s) > 0 && len(s) <= MaxNodeName && utf8.ValidString(s) }

// parseResult decodes one result and returns the bytes it used. A result
// that is well formed but that this servent cannot use (no urn:blake3, as
// other clients' results with only urn:sha1; a size escape without "LF") is
// consumed with usable false: the caller drops that result, not the hit.
// The extension block is read liberally: elements separated by 0x1C,
// unknown strings (legacy metadata, other URNs) ignored, GGEP blocks walked
// structurally, "LF" (from 2^31, as real clients write it) gives the size.
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
	var haveURN, haveLF bool
	for {
		if p >= len(b) {
			return 0, false, fmt.Errorf("extension block terminator: %w", ErrTruncated)
		}
		switch b[p] {
		case 0:
			p++
			return p, haveURN && (haveLF || size32 != size32Escape), nil
		case extSeparator:
			p++
			continue
		case GGEPMagic:
			n, err := walkGGEP(b[p:], func(id, data []byte) error {
				if string(id) != KeyLargeFile {
					return nil
				}
				if len(data) == 0 || len(data) > 8 {
					return fmt.Errorf("%s length %d: %w", KeyLargeFile, len(data), ErrBadGGEP)
				}
				var v [8]byte
				copy(v[:], data)
				r.Size = binary.LittleEndian.Uint64(v[:])
				haveLF = true
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

// parseTrailer decodes the QHD (vendor, open data, private area with an
// optional GGEP block) and the servent ID, the last 16 bytes.
func (h *QueryHit) parseTrailer(b []byte) error {
	if len(b) < qhdFixedLen+serventIDLen {
		return fmt.Errorf("qhd: %w", ErrTruncated)
	}
	copy(h.Vendor[:], b[:4])
	open := int(b[4])
	if open < 2 {
		return fmt.Errorf("qhd open data size %d: %w", open, ErrBadExtension)
	}
	if len(b)-5 < open+serventIDLen {
		return fmt.Errorf("qhd open data: %w", ErrTruncated)
	}
	flags, valid := b[5], b[6]
	private := b[5+open : len(b)-serventIDLen]
	if flags&valid&qhdFlagGGEP != 0 {
		// The block starts at the private area's first 0xC3 (GGEP 0.51);
		// bytes around it (LimeWire's chat byte, XML) are skipped.
		if i := bytes.IndexByte(private, GGEPMagic); i >= 0 {
			if _, err := walkGGEP(private[i:], h.qhdExtension); err != nil {
				return fmt.Errorf("qhd: %w", err)
			}
		}
	}
	copy(h.ServentID[:], b[len(b)-serventIDLen:])
	return nil
}

func (h *QueryHit) qhdExtension(id, data []byte) error {
	bad := func() error { return fmt.Errorf("%s length %d: %w", id, len(data), ErrBadGGEP) }
	switch string(id) {
	case KeyIPv6:
		if len(data) != 16 {
			return bad()
		}
		h.IPv6 = netip.AddrFrom16([16]byte(data))
	case KeyQUICPort:
		if len(data) != 2 {
			return bad()
		}
		h.QUICPort = binary.LittleEndian.Uint16(data)
		if h.QUICPort == 0 {
			return bad()
		}
	case KeyFingerprint:
		if len(data) != FingerprintLen || [FingerprintLen]byte(data) == ([FingerprintLen]byte{}) {
			return bad()
		}
		h.Fingerprint = [FingerprintLen]byte(data)
	case KeyNodeName:
		if !validNodeName(string(data)) {
			return bad()
		}
		h.Node = string(data)
	case KeyAnswered:
		if len(data) < 3 || !validNodeName(string(data[2:])) {
			return bad()
		}
		a := &Answer{Parts: binary.LittleEndian.Uint16(data), Node: string(data[2:])}
		if a.Parts == 0 {
			return bad()
		}
		h.Answered = a
	case KeyDone:
		if len(data) != 0 {
			return bad()
		}
		h.Done = true
	}
	return nil
}
