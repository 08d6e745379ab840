package query

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
)

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
