package overlay

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBeaconCodec(t *testing.T) {
	k1, _ := deriveDrillKeys("alpha")
	k2, _ := deriveDrillKeys("beta")
	b := beacon{Version: beaconVersion, Port: 6346, Fingerprint: Fingerprint{7, 31: 9}, Name: "host-1",
		Time: time.UnixMilli(1_800_000_000_123), Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.7"), netip.MustParseAddr("fe80::7")}}
	tests := []struct {
		name     string
		enc, dec drillKeys
		want     error
	}{
		{"open", drillKeys{}, drillKeys{}, nil},
		{"keyed", k1, k1, nil},
		{"wrong key", k1, k2, errBeaconKey},
		{"keyed to open", k1, drillKeys{}, errBeaconKey},
		{"open to keyed", drillKeys{}, k1, errBeaconKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeBeacon(encodeBeacon(b, tc.enc), tc.dec)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && !reflect.DeepEqual(got, b) {
				t.Fatalf("got %+v, want %+v", got, b)
			}
		})
	}
}

// TestBeaconOtherVersionsRefused: a version-2 beacon (before addresses
// and time were bound) and a future one are refused with both versions
// and the fix in the message.
func TestBeaconOtherVersionsRefused(t *testing.T) {
	k, _ := deriveDrillKeys("alpha")
	v2 := []byte("SVNT\x02\x00\x18\xca")
	v2 = append(v2, make([]byte, 32)...)
	v2 = append(v2, 2, 'h', '1')
	v4 := slices.Clone(encodeBeacon(beacon{Port: 1, Name: "a"}, k))
	v4[4] = 4
	for _, tc := range []struct {
		name string
		p    []byte
		want string
	}{
		{"version 2", v2, "version 2, this node speaks 3: upgrade servent on the sender"},
		{"version 4", v4, "version 4, this node speaks 3: upgrade servent on this host"},
	} {
		_, err := decodeBeacon(tc.p, k)
		if !errors.Is(err, errBeaconVersion) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want errBeaconVersion saying %q", tc.name, err, tc.want)
		}
	}
}

// TestBeaconCheck: a keyed beacon is taken only from an address it lists
// and within beaconWindow of the receiver's clock; an open one is not
// checked (it proves nothing).
func TestBeaconCheck(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	b := beacon{Time: now, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.7"), netip.MustParseAddr("fe80::7")}}
	tests := []struct {
		name  string
		from  string
		at    time.Time
		keyed bool
		want  error
	}{
		{"listed", "10.0.0.7", now, true, nil},
		{"listed link-local with zone", "fe80::7%eth0", now, true, nil},
		{"v4-mapped", "::ffff:10.0.0.7", now, true, nil},
		{"clock 9 min ahead", "10.0.0.7", now.Add(-9 * time.Minute), true, nil},
		{"another address", "10.0.0.66", now, true, errBeaconSource},
		{"11 min later", "10.0.0.7", now.Add(11 * time.Minute), true, errBeaconStale},
		{"clock 11 min ahead", "10.0.0.7", now.Add(-11 * time.Minute), true, errBeaconStale},
		{"open, another address, late", "10.0.0.66", now.Add(time.Hour), false, nil},
	}
	for _, tc := range tests {
		if err := b.check(netip.MustParseAddr(tc.from), tc.at, tc.keyed); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDirectedBroadcast(t *testing.T) {
	tests := []struct{ prefix, want string }{
		{"192.168.1.7/24", "192.168.1.255"},
		{"169.254.3.4/16", "169.254.255.255"},
		{"10.1.2.3/8", "10.255.255.255"},
		{"172.16.5.9/20", "172.16.15.255"},
	}
	for _, tc := range tests {
		got := directedBroadcast(netip.MustParsePrefix(tc.prefix))
		if got.String() != tc.want {
			t.Errorf("%s: got %s, want %s", tc.prefix, got, tc.want)
		}
	}
}

func FuzzDecodeBeacon(f *testing.F) {
	k, _ := deriveDrillKeys("alpha")
	f.Add(encodeBeacon(beacon{Port: 1, Name: "a"}, drillKeys{}), false)
	f.Add(encodeBeacon(beacon{Port: 2, Name: "bb"}, k), true)
	f.Add([]byte("SVNT\x03\x00\x00\x01\xff"), false)
	f.Fuzz(func(t *testing.T, p []byte, keyed bool) {
		keys := drillKeys{}
		if keyed {
			keys = k
		}
		b, err := decodeBeacon(p, keys)
		if err != nil {
			return
		}
		if _, err := decodeBeacon(encodeBeacon(b, keys), keys); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}
