package overlay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/servent-p2p/servent/role"
)

// Meta is the node metadata published through memberlist.
type Meta struct {
	Role        role.Role
	Capacity    float32     // capacity score used by the election
	Protocol    uint16      // servent protocol version
	Fingerprint Fingerprint // TLS key fingerprint, pinned by QUIC peers
	Shares      uint64      // number of shared files
	Started     time.Time   // start time (second precision on the wire)
	QUICPort    uint16      // UDP port of the node's QUIC socket
	// Addrs are the node's candidate addresses (every usable unicast
	// address of its up interfaces, at most 16, without zones): where to
	// look for it. Only a pinned handshake makes one a path.
	Addrs []netip.Addr
}

// Wire layout of metadata version 1 (big-endian):
//
//	0  version (1)
//	1  role
//	2  capacity float32 bits
//	6  protocol uint16
//	8  fingerprint [32]
//	40 shares uint64
//	48 started unix seconds int64
//	56 quic port uint16
//	58 end of version 1; later versions append fields, older decoders ignore them
//
// Version 2 appends the candidate addresses: a count byte, then per address
// its length (4 or 16) and its bytes.
const (
	metaVersion = 2
	metaLenV1   = 58
	// MaxMetaLen is memberlist's limit on node metadata.
	MaxMetaLen = 512
)

// ErrBadMeta reports undecodable metadata.
var ErrBadMeta = errors.New("bad node metadata")

// EncodeMeta returns the wire form of m (at most 331 bytes, under
// MaxMetaLen); addresses past the 16th are left out.
func EncodeMeta(m Meta) []byte {
	b := make([]byte, metaLenV1, metaLenV1+1+maxMetaAddrs*17)
	b[0] = metaVersion
	b[1] = byte(m.Role)
	binary.BigEndian.PutUint32(b[2:], math.Float32bits(m.Capacity))
	binary.BigEndian.PutUint16(b[6:], m.Protocol)
	copy(b[8:40], m.Fingerprint[:])
	binary.BigEndian.PutUint64(b[40:], m.Shares)
	var started int64
	if !m.Started.IsZero() {
		started = m.Started.Unix()
	}
	binary.BigEndian.PutUint64(b[48:], uint64(started))
	binary.BigEndian.PutUint16(b[56:], m.QUICPort)
	return appendAddrList(b, m.Addrs)
}

// appendAddrList appends an address list as metadata and beacons carry
// it: a count byte, then per address its length (4 or 16) and its bytes
// (no zone). Addresses past the maxMetaAddrs-th are left out.
func appendAddrList(b []byte, addrs []netip.Addr) []byte {
	addrs = addrs[:min(len(addrs), maxMetaAddrs)]
	b = append(b, byte(len(addrs)))
	for _, a := range addrs {
		raw := a.WithZone("").AsSlice()
		b = append(b, byte(len(raw)))
		b = append(b, raw...)
	}
	return b
}

// DecodeMeta parses metadata written by EncodeMeta or a later version.
func DecodeMeta(b []byte) (Meta, error) {
	if len(b) < 1 {
		return Meta{}, fmt.Errorf("empty: %w", ErrBadMeta)
	}
	if b[0] < 1 {
		return Meta{}, fmt.Errorf("version %d: %w", b[0], ErrBadMeta)
	}
	if len(b) < metaLenV1 || len(b) > MaxMetaLen {
		return Meta{}, fmt.Errorf("length %d: %w", len(b), ErrBadMeta)
	}
	m := Meta{
		Role:     role.Role(b[1]),
		Capacity: math.Float32frombits(binary.BigEndian.Uint32(b[2:])),
		Protocol: binary.BigEndian.Uint16(b[6:]),
		Shares:   binary.BigEndian.Uint64(b[40:]),
		QUICPort: binary.BigEndian.Uint16(b[56:]),
	}
	copy(m.Fingerprint[:], b[8:40])
	if s := int64(binary.BigEndian.Uint64(b[48:])); s != 0 {
		m.Started = time.Unix(s, 0)
	}
	if b[0] >= 2 {
		// Bytes after version 2's address list belong to later versions.
		addrs, _, err := readAddrList(b[metaLenV1:])
		if err != nil {
			return Meta{}, fmt.Errorf("%w: %w", ErrBadMeta, err)
		}
		m.Addrs = addrs
	}
	return m, nil
}

// errAddrList: an address list (appendAddrList) is truncated or too long.
var errAddrList = errors.New("bad address list")

// readAddrList parses an address list written by appendAddrList and
// returns the bytes after it.
func readAddrList(p []byte) ([]netip.Addr, []byte, error) {
	if len(p) < 1 {
		return nil, nil, fmt.Errorf("no address count: %w", errAddrList)
	}
	count := int(p[0])
	if count > maxMetaAddrs {
		return nil, nil, fmt.Errorf("%d addresses: %w", count, errAddrList)
	}
	p = p[1:]
	out := make([]netip.Addr, 0, count)
	for range count {
		if len(p) < 1 || (p[0] != 4 && p[0] != 16) || len(p) < 1+int(p[0]) {
			return nil, nil, fmt.Errorf("truncated address: %w", errAddrList)
		}
		a, _ := netip.AddrFromSlice(p[1 : 1+p[0]])
		out = append(out, a)
		p = p[1+p[0]:]
	}
	return out, p, nil
}
