package overlay

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"sync"

	"golang.org/x/crypto/argon2"
)

// ErrDrillKey reports that a peer refused us (or we refused it) because the
// drill keys differ or one side has none.
var ErrDrillKey = errors.New("wrong or missing drill key")

// drillSalt salts the passphrase; the network has no other shared value
// to salt it with. Version 2: Argon2id before HKDF.
const drillSalt = "servent drill key v2"

// Argon2id cost of turning the passphrase into the network's master key:
// about a second of CPU and 64 MiB, once per start. Every node broadcasts
// values keyed by it (beacon MACs), so an offline guess must cost as much.
const (
	argonTime    = 8
	argonMemory  = 64 << 10 // KiB
	argonThreads = 2
)

// derivedKeys caches derivations: a process (a test, mostly) that starts
// several nodes with one passphrase pays the Argon2id cost once.
var derivedKeys sync.Map // passphrase -> drillKeys

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
	if k, ok := derivedKeys.Load(pass); ok {
		return k.(drillKeys), nil
	}
	master := argon2.IDKey([]byte(pass), []byte(drillSalt), argonTime, argonMemory, argonThreads, 32)
	derive := func(info string, n int) ([]byte, error) {
		return hkdf.Key(sha256.New, master, nil, info, n)
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
	derivedKeys.Store(pass, k)
	return k, nil
}

// beaconMAC returns the 16-byte HMAC-SHA256 of msg under the beacon key.
func (k drillKeys) beaconMAC(msg []byte) []byte {
	m := hmac.New(sha256.New, k.beacon)
	m.Write(msg)
	return m.Sum(nil)[:beaconMACLen]
}
