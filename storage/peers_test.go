package storage

import (
	"fmt"
	"slices"
	"testing"
)

func TestPeers(t *testing.T) {
	s := openTest(t, "")
	if p, err := s.Peers(); err != nil || len(p) != 0 {
		t.Fatalf("empty cache: %v %v", p, err)
	}
	for _, tc := range []struct {
		save []string
		want []string
	}{
		{[]string{"a:1", "b:1"}, []string{"a:1", "b:1"}},
		{[]string{"c:1", "a:1", "", "c:1"}, []string{"c:1", "a:1", "b:1"}},
		{nil, []string{"c:1", "a:1", "b:1"}},
	} {
		if err := s.SavePeers(tc.save); err != nil {
			t.Fatal(err)
		}
		got, err := s.Peers()
		if err != nil || !slices.Equal(got, tc.want) {
			t.Fatalf("after saving %v: %v %v, want %v", tc.save, got, err, tc.want)
		}
	}
}

func TestPeersBounded(t *testing.T) {
	s := openTest(t, "")
	var many []string
	for i := range 2 * MaxPeers {
		many = append(many, fmt.Sprintf("10.0.%d.%d:6346", i/256, i%256))
	}
	if err := s.SavePeers(many); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePeers([]string{"newest:1"}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Peers()
	if len(got) != MaxPeers || got[0] != "newest:1" || got[1] != many[0] {
		t.Fatalf("got %d peers starting %v", len(got), got[:2])
	}
}

func FuzzDecodePeers(f *testing.F) {
	f.Add(encodePeers([]string{"127.0.0.1:6346", "[::1]:6346"}))
	f.Add(encodePeers(nil))
	f.Add([]byte{formatV1, 200})
	f.Add([]byte{formatV1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		addrs, err := decodePeers(b)
		if err != nil {
			return
		}
		again, err := decodePeers(encodePeers(addrs))
		if err != nil || !slices.Equal(again, addrs) {
			t.Fatalf("re-encode of %q: %q %v", addrs, again, err)
		}
	})
}
