package overlay

import (
	"errors"
	"net/netip"
	"testing"
)

func TestBeaconCodec(t *testing.T) {
	k1, _ := deriveDrillKeys("alpha")
	k2, _ := deriveDrillKeys("beta")
	b := beacon{Version: beaconVersion, Port: 6346, Fingerprint: Fingerprint{7, 31: 9}, Name: "host-1"}
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
			if err == nil && got != b {
				t.Fatalf("got %+v, want %+v", got, b)
			}
		})
	}
}

func TestBeaconVersion1Refused(t *testing.T) {
	v1 := []byte("SVNT\x01\x00\x18\xca\x02h1")
	if _, err := decodeBeacon(v1, drillKeys{}); !errors.Is(err, errBadBeacon) {
		t.Fatalf("version 1 beacon: err = %v, want errBadBeacon", err)
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
	f.Add([]byte("SVNT\x01\x00\x00\x01\xff"), false)
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
