package query

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
)

// TestAnswerMarkGolden pins the bytes of a query asking for answer marks
// (docs/PROTOCOL.md section 3) and of an empty answer mark (section 4).
func TestAnswerMarkGolden(t *testing.T) {
	q := unhex(t,
		"0102030405060708 FF0A0B0C0D0E0F00", "80", "04", "00", "0C000000",
		"0000", hx("evac"), "00", // flags, criteria
		"C3 82", hx("AN"), "40", // GGEP: last extension, ID length 2, "AN", length 0
	)
	want := &Descriptor{Header: Header{GUID: testGUID, Type: TypeQuery, TTL: 4},
		Query: &Query{Criteria: "evac", WantAnswered: true}}
	checkGolden(t, q, want)

	h := unhex(t,
		"0102030405060708 FF0A0B0C0D0E0F00", "81", "02", "00", "2D000000",
		"00", "0000", "00000000", "00000000", // no results, port, IPv4, speed
		hx("SRVT"), "02", "20", "20", // vendor, open data: GGEP present, valid
		"C3 82", hx("AN"), "46", "0100", hx("node"), // AN: 1 part, node "node"
		"00000000000000000000000000000000", // servent ID
	)
	wantHit := &Descriptor{Header: Header{GUID: testGUID, Type: TypeQueryHit, TTL: 2},
		Hit: &QueryHit{Addr: netip.AddrFrom4([4]byte{}), Vendor: [4]byte{'S', 'R', 'V', 'T'}, Answered: &Answer{Node: "node", Parts: 1}, Results: []FileResult{}}}
	checkGolden(t, h, wantHit)
}

// checkGolden decodes b, compares with want, and re-encodes want to b.
func checkGolden(t *testing.T, b []byte, want *Descriptor) {
	t.Helper()
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, want)
	}
	enc, err := want.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !bytes.Equal(enc, b) {
		t.Fatalf("encoded\n% x\nwant\n% x", enc, b)
	}
}
