package overlay

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
)

// ErrDrillKey reports that a peer refused us (or we refused it) because the
// drill keys differ or one side has none.
var ErrDrillKey = errors.New("wrong or missing drill key")

const drillSalt = "servent drill key v1"

// drillKeys holds the keys derived from the drill passphrase. The zero value
// means "open network".
type drillKeys struct {
	set       bool
	mlKey     []byte   // 32-byte AES key for memberlist
	streamTag [16]byte // proves the key on memberlist streams
	beacon    []byte   // HMAC key for beacons
}

func deriveDrillKeys(pass string) (drillKeys, error) {
	if pass == "" {
		return drillKeys{}, nil
	}
	derive := func(info string, n int) ([]byte, error) {
		return hkdf.Key(sha256.New, []byte(pass), []byte(drillSalt), info, n)
	}
	ml, err := derive("memberlist", 32)
	if err != nil {
		return drillKeys{}, err
	}
	tag, err := derive("memberlist stream", 16)
	if err != nil {
		return drillKeys{}, err
	}
	bk, err := derive("beacon", 32)
	if err != nil {
		return drillKeys{}, err
	}
	k := drillKeys{set: true, mlKey: ml, beacon: bk}
	copy(k.streamTag[:], tag)
	return k, nil
}

// beaconMAC returns the 16-byte HMAC-SHA256 of msg under the beacon key.
func (k drillKeys) beaconMAC(msg []byte) []byte {
	m := hmac.New(sha256.New, k.beacon)
	m.Write(msg)
	return m.Sum(nil)[:beaconMACLen]
}
