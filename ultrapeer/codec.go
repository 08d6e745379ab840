package ultrapeer

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"unicode/utf8"
)

// This file holds the body encoders and the strict decoder of the index
// plane; wire.go holds the message types and the framing.

// PartialKeyword, as an entry's only keyword on the wire, marks the entry
// partial (Entry.Partial). It normalises to no word at all
// (content.Keywords), so an ultrapeer that does not know the mark indexes
// the entry by its hash only: it never answers a keyword query with it.
const PartialKeyword = "\x00"

// partialKeywords is the keyword list a partial entry is written with.
var partialKeywords = []string{PartialKeyword}

func appendString(b []byte, s string, limit int, field string) ([]byte, error) {
	if len(s) > limit || !utf8.ValidString(s) {
		return b, fmt.Errorf("%w: %s: %d bytes or invalid UTF-8", ErrMalformed, field, len(s))
	}
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...), nil
}

func appendRegister(b []byte, m *Register) ([]byte, error) {
	b = append(b, WireVersion)
	b, err := appendString(b, m.Owner.ID, MaxIDLen, "owner id")
	if err != nil {
		return b, err
	}
	b = appendAddrPort(b, m.Owner.Addr)
	b = append(b, m.Owner.Fingerprint[:]...)
	return appendUpdate(b, &m.Update)
}

// appendAddrPort writes 0, 4 or 16 address bytes after their length, then
// the port big-endian. The zone is not carried.
func appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	a := ap.Addr()
	switch {
	case a.Is4():
		s := a.As4()
		b = append(append(b, 4), s[:]...)
	case a.Is6():
		s := a.As16()
		b = append(append(b, 16), s[:]...)
	default:
		return append(b, 0, 0, 0)
	}
	return binary.BigEndian.AppendUint16(b, ap.Port())
}

func appendUpdate(b []byte, u *Update) ([]byte, error) {
	var flags byte
	if u.Full {
		flags |= flagFull
	}
	if u.More {
		flags |= flagMore
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, u.FromVersion)
	b = binary.AppendUvarint(b, u.ToVersion)
	b = binary.AppendUvarint(b, uint64(len(u.Add)))
	var err error
	for i := range u.Add {
		e := &u.Add[i]
		if e.Path == "" {
			return b, fmt.Errorf("%w: empty path", ErrMalformed)
		}
		if b, err = appendString(b, e.Path, MaxPathLen, "path"); err != nil {
			return b, err
		}
		if e.Size < 0 {
			return b, fmt.Errorf("%w: negative size %d", ErrMalformed, e.Size)
		}
		b = binary.AppendUvarint(b, uint64(e.Size))
		b = append(b, e.Hash[:]...)
		kws := e.Keywords
		if e.Partial {
			kws = partialKeywords
		}
		if len(kws) > MaxKeywords {
			return b, fmt.Errorf("%w: %d keywords", ErrMalformed, len(e.Keywords))
		}
		b = binary.AppendUvarint(b, uint64(len(kws)))
		for _, k := range kws {
			if b, err = appendString(b, k, MaxKeywordLen, "keyword"); err != nil {
				return b, err
			}
		}
		if len(b) > MaxFrameSize {
			return b, fmt.Errorf("%w: update", ErrFrameTooLarge)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(u.Remove)))
	for _, p := range u.Remove {
		if p == "" {
			return b, fmt.Errorf("%w: empty removed path", ErrMalformed)
		}
		if b, err = appendString(b, p, MaxPathLen, "removed path"); err != nil {
			return b, err
		}
	}
	return b, nil
}

func appendRefuse(b []byte, m *Refuse) ([]byte, error) {
	if m.Reason < RefuseFull || m.Reason > maxRefuseReason {
		return b, fmt.Errorf("%w: refuse reason %d", ErrMalformed, m.Reason)
	}
	if len(m.TryUltrapeers) > MaxTryUltrapeers {
		return b, fmt.Errorf("%w: %d try-ultrapeers", ErrMalformed, len(m.TryUltrapeers))
	}
	b = append(b, byte(m.Reason))
	b = binary.AppendUvarint(b, uint64(len(m.TryUltrapeers)))
	var err error
	for _, id := range m.TryUltrapeers {
		if b, err = appendString(b, id, MaxIDLen, "try-ultrapeer"); err != nil {
			return b, err
		}
	}
	return b, nil
}

// decoder reads fields from a frame body; after the first error every read
// returns zero values and err keeps that first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(kind error, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
	}
	d.b = nil
}

func (d *decoder) bytes(n int, field string) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail(ErrTruncated, "%s", field)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte(field string) byte {
	if v := d.bytes(1, field); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	switch {
	case n == 0:
		d.fail(ErrTruncated, "%s", field)
		return 0
	case n < 0:
		d.fail(ErrMalformed, "%s: varint overflow", field)
		return 0
	case n != uvarintLen(v):
		d.fail(ErrMalformed, "%s: non-minimal varint", field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// count reads a list length and checks it against the bytes left, each
// element taking at least minSize bytes, and against limit.
func (d *decoder) count(field string, minSize, limit int) int {
	n := d.uvarint(field)
	if d.err != nil {
		return 0
	}
	if n > uint64(limit) || n > uint64(len(d.b)/minSize) {
		d.fail(ErrMalformed, "%s: count %d", field, n)
		return 0
	}
	return int(n)
}

func (d *decoder) string(field string, limit int) string {
	n := d.uvarint(field)
	if d.err != nil {
		return ""
	}
	if n > uint64(limit) {
		d.fail(ErrMalformed, "%s: %d bytes", field, n)
		return ""
	}
	v := d.bytes(int(n), field)
	if d.err != nil {
		return ""
	}
	if !utf8.Valid(v) {
		d.fail(ErrMalformed, "%s: invalid UTF-8", field)
		return ""
	}
	return string(v)
}

func (d *decoder) register() *Register {
	var m Register
	if v := d.byte("wire version"); d.err == nil && v != WireVersion {
		d.fail(ErrUnsupportedVersion, "%d", v)
	}
	m.Owner.ID = d.string("owner id", MaxIDLen)
	switch n := d.byte("address length"); n {
	case 0:
		if p := d.bytes(2, "port"); d.err == nil && (p[0] != 0 || p[1] != 0) {
			d.fail(ErrMalformed, "port without address")
		}
	case 4, 16:
		a, _ := netip.AddrFromSlice(d.bytes(int(n), "address"))
		p := d.bytes(2, "port")
		if d.err == nil {
			m.Owner.Addr = netip.AddrPortFrom(a, binary.BigEndian.Uint16(p))
		}
	default:
		d.fail(ErrMalformed, "address length %d", n)
	}
	copy(m.Owner.Fingerprint[:], d.bytes(32, "fingerprint"))
	m.Update = d.update()
	return &m
}

// Update flag bits.
const (
	flagFull = 1 << 0
	flagMore = 1 << 1
)

// minEntrySize is the smallest encoded Entry: path length + 1 path byte +
// size + hash + keyword count.
const minEntrySize = 1 + 1 + 1 + 32 + 1

func (d *decoder) update() Update {
	var u Update
	flags := d.byte("flags")
	if d.err == nil && flags&^(flagFull|flagMore) != 0 {
		d.fail(ErrMalformed, "flags 0x%02x", flags)
	}
	u.Full, u.More = flags&flagFull != 0, flags&flagMore != 0
	u.FromVersion = d.uvarint("from version")
	u.ToVersion = d.uvarint("to version")
	if n := d.count("add count", minEntrySize, math.MaxInt32); n > 0 {
		u.Add = make([]Entry, n)
	}
	for i := range u.Add {
		e := &u.Add[i]
		e.Path = d.string("path", MaxPathLen)
		if d.err == nil && e.Path == "" {
			d.fail(ErrMalformed, "empty path")
		}
		size := d.uvarint("size")
		if size > math.MaxInt64 {
			d.fail(ErrMalformed, "size %d", size)
		}
		e.Size = int64(size)
		copy(e.Hash[:], d.bytes(32, "hash"))
		if n := d.count("keyword count", 1, MaxKeywords); n > 0 {
			e.Keywords = make([]string, n)
		}
		for j := range e.Keywords {
			e.Keywords[j] = d.string("keyword", MaxKeywordLen)
		}
		if len(e.Keywords) == 1 && e.Keywords[0] == PartialKeyword {
			e.Keywords, e.Partial = nil, true
		}
	}
	if n := d.count("remove count", 2, math.MaxInt32); n > 0 {
		u.Remove = make([]string, n)
	}
	for i := range u.Remove {
		u.Remove[i] = d.string("removed path", MaxPathLen)
		if d.err == nil && u.Remove[i] == "" {
			d.fail(ErrMalformed, "empty removed path")
		}
	}
	return u
}

func (d *decoder) refuse() *Refuse {
	var m Refuse
	m.Reason = RefuseReason(d.byte("reason"))
	if d.err == nil && (m.Reason < RefuseFull || m.Reason > maxRefuseReason) {
		d.fail(ErrMalformed, "refuse reason %d", m.Reason)
	}
	if n := d.count("try count", 1, MaxTryUltrapeers); n > 0 {
		m.TryUltrapeers = make([]string, n)
	}
	for i := range m.TryUltrapeers {
		m.TryUltrapeers[i] = d.string("try-ultrapeer", MaxIDLen)
	}
	return &m
}
