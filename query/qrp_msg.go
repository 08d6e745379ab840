package query

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
)

// ROUTE_TABLE_UPDATE (Rohrs 2002, section "Gnutella Protocol Changes"): the
// descriptor type and variants with which an ultrapeer sends its QRP table.
const (
	// TypeRouteTable is the payload type of ROUTE_TABLE_UPDATE messages.
	TypeRouteTable PayloadType = 0x30

	qrpVariantReset = 0x00
	qrpVariantPatch = 0x01
	qrpNoCompressor = 0x00
	qrpZlib         = 0x01
	// qrpInfinity is the RESET infinity we send: a slot is 1 (present) or 2
	// (absent), as gtk-gnutella's tables of local files.
	qrpInfinity = 2
	// qrpEntryBits is the PATCH entry size we send (as gtk-gnutella).
	qrpEntryBits = 4
	// maxPatchChunk bounds the data of one PATCH message; a larger patch is
	// split into a sequence.
	maxPatchChunk = 4096
)

// AppendUpdates appends the ROUTE_TABLE_UPDATE messages (each a descriptor:
// 23-byte header, TTL 1, hops 0, GUID guid, then the payload) that make a
// receiver that holds old hold cur: a RESET (table length 2^bits, infinity
// 2) when old is nil or of another size, then PATCH messages 1/n..n/n
// carrying one zlib stream, split every 4 KiB, of 4-bit entries (two per
// byte, the lower slot in the high nibble): -1 for a slot that became
// present, +1 for one that became absent, 0 elsewhere.
func AppendUpdates(dst []byte, guid GUID, old, cur *Table) ([]byte, error) {
	if cur == nil || cur.bits == 0 {
		return dst, fmt.Errorf("update to empty table: %w", ErrBadPatch)
	}
	if old != nil && old.bits != cur.bits {
		old = nil
	}
	if old == nil {
		var p [6]byte
		p[0] = qrpVariantReset
		binary.LittleEndian.PutUint32(p[1:5], 1<<cur.bits)
		p[5] = qrpInfinity
		dst = appendRouteTableMsg(dst, guid, p[:])
	}
	entries := make([]byte, 1<<cur.bits/2)
	for i := range entries {
		for half := 0; half < 2; half++ {
			s := 2*i + half
			was := old != nil && old.has(s)
			var v byte
			switch now := cur.has(s); {
			case now && !was:
				v = 0xF // -1: present
			case was && !now:
				v = 0x1 // +1: absent
			}
			entries[i] |= v << (4 * (1 - half))
		}
	}
	data, err := compressPatch(entries)
	if err != nil {
		return dst, err
	}
	n := (len(data) + maxPatchChunk - 1) / maxPatchChunk
	if n > 255 {
		return dst, fmt.Errorf("patch of %d bytes: %w", len(data), ErrTooLong)
	}
	for seq := 1; seq <= n; seq++ {
		chunk := data[(seq-1)*maxPatchChunk : min(seq*maxPatchChunk, len(data))]
		p := append([]byte{qrpVariantPatch, byte(seq), byte(n), qrpZlib, qrpEntryBits}, chunk...)
		dst = appendRouteTableMsg(dst, guid, p)
	}
	return dst, nil
}

// patchWriters keeps zlib writers between patches: each holds about
// 0.8 MB of compressor state, which an ultrapeer sending patches to every
// neighbour would otherwise allocate once per patch.
var patchWriters = sync.Pool{New: func() any { return zlib.NewWriter(nil) }}

// compressPatch returns entries zlib-compressed, as a patch carries them.
func compressPatch(entries []byte) ([]byte, error) {
	var z bytes.Buffer
	zw := patchWriters.Get().(*zlib.Writer)
	defer patchWriters.Put(zw)
	zw.Reset(&z)
	zw.Write(entries)
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress patch: %w", err)
	}
	return z.Bytes(), nil
}

// has reports whether slot s is set.
func (t *Table) has(s int) bool { return t.set[s>>3]&(0x80>>(s&7)) != 0 }

// TableReceiver rebuilds a neighbour's QRP table from its ROUTE_TABLE_UPDATE
// messages, as LimeWire and gtk-gnutella send them: RESET with any power-of-2
// length (2^MinTableBits..2^MaxTableBits) and infinity; PATCH sequences of
// 4- or 8-bit signed entries, uncompressed or zlib, one stream split over
// the sequence. A slot is present after a negative entry, absent after a
// positive one. Not safe for concurrent use.
type TableReceiver struct {
	cur     *Table // the table being patched (nil before a RESET)
	seqSize int
	next    int     // sequence number expected next
	head    [2]byte // compressor, entry bits of the sequence
	data    []byte  // the sequence's data so far
}

// Receive applies one message payload. When it completes a PATCH sequence
// it returns the resulting table (a new Table each time; keep it, it is
// never mutated), otherwise nil. A malformed message (ErrBadPatch,
// ErrTruncated) leaves the last complete table in force; the next RESET
// starts over.
func (r *TableReceiver) Receive(p []byte) (*Table, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("route table message: %w", ErrTruncated)
	}
	switch p[0] {
	case qrpVariantReset:
		if len(p) < 6 {
			return nil, fmt.Errorf("reset: %w", ErrTruncated)
		}
		size := binary.LittleEndian.Uint32(p[1:5])
		bits := 0
		for bits <= MaxTableBits && 1<<bits < size {
			bits++
		}
		if 1<<bits != size || bits < MinTableBits || bits > MaxTableBits {
			return nil, fmt.Errorf("reset table length %d: %w", size, ErrBadPatch)
		}
		r.cur, r.next, r.data = NewTable(bits), 1, nil
		return nil, nil
	case qrpVariantPatch:
		return r.patch(p)
	}
	return nil, fmt.Errorf("route table variant 0x%02x: %w", p[0], ErrBadPatch)
}

func (r *TableReceiver) patch(p []byte) (*Table, error) {
	if len(p) < 5 {
		return nil, fmt.Errorf("patch: %w", ErrTruncated)
	}
	seq, size, head := int(p[1]), int(p[2]), [2]byte{p[3], p[4]}
	switch {
	case r.cur == nil:
		return nil, fmt.Errorf("patch before reset: %w", ErrBadPatch)
	case seq == 1:
		r.seqSize, r.head, r.data, r.next = size, head, r.data[:0], 1
	case seq != r.next || size != r.seqSize || head != r.head:
		r.next = 0
		return nil, fmt.Errorf("patch %d/%d out of sequence: %w", seq, size, ErrBadPatch)
	}
	if seq != r.next || size == 0 || seq > size {
		return nil, fmt.Errorf("patch %d/%d out of sequence: %w", seq, size, ErrBadPatch)
	}
	slots := 1 << r.cur.bits
	bits := int(r.head[1])
	if bits != 4 && bits != 8 {
		return nil, fmt.Errorf("patch entry bits %d: %w", bits, ErrBadPatch)
	}
	want := slots * bits / 8
	if len(r.data)+len(p)-5 > max(want, maxRouteTableMsg) {
		return nil, fmt.Errorf("patch data: %w", ErrTooLong)
	}
	r.data = append(r.data, p[5:]...)
	r.next++
	if seq < size {
		return nil, nil
	}
	entries, err := r.sequenceEntries(want)
	if err != nil {
		return nil, err
	}
	if len(entries) != want {
		return nil, fmt.Errorf("patch of %d bytes for %d entries: %w", len(entries), slots, ErrBadPatch)
	}
	t := r.cur.Clone()
	t.applyPatch(entries, bits)
	r.cur, r.data = t, r.data[:0]
	return t, nil
}

// sequenceEntries returns the entries of the complete PATCH sequence,
// decompressed as its head says, at most want+1 bytes of them.
func (r *TableReceiver) sequenceEntries(want int) ([]byte, error) {
	switch r.head[0] {
	case qrpNoCompressor:
		return r.data, nil
	case qrpZlib:
		zr, err := zlib.NewReader(bytes.NewReader(r.data))
		if err != nil {
			return nil, fmt.Errorf("patch stream: %w", ErrBadPatch)
		}
		entries, err := io.ReadAll(io.LimitReader(zr, int64(want)+1))
		if err != nil {
			return nil, fmt.Errorf("patch stream: %w", ErrBadPatch)
		}
		return entries, nil
	}
	return nil, fmt.Errorf("patch compressor 0x%02x: %w", r.head[0], ErrBadPatch)
}

// applyPatch applies one entry per slot of t, each bits (4 or 8) wide and
// signed: a negative entry sets the slot, a positive one clears it.
func (t *Table) applyPatch(entries []byte, bits int) {
	for s := range 1 << t.bits {
		var v int8
		if bits == 8 {
			v = int8(entries[s])
		} else {
			v = int8(entries[s/2]>>(4*(1-s%2))<<4) >> 4 // sign-extend the nibble
		}
		switch {
		case v < 0:
			t.set[s>>3] |= 0x80 >> (s & 7)
		case v > 0:
			t.set[s>>3] &^= 0x80 >> (s & 7)
		}
	}
}
