package query

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"unicode/utf8"
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
