package overlay

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
)

// beacon is a LAN discovery announcement.
//
// Wire layout (version 2): "SVNT" magic, version, flags (bit 0: MAC
// present), UDP port of the node's main socket (uint16 big-endian), the
// node's key fingerprint (32 bytes), name length (1 byte), name, then with
// a drill key a 16-byte HMAC-SHA256 of everything before it. The receiver
// takes the beacon's source address, with the interface it arrived on as
// zone, as a candidate path to that key.
type beacon struct {
	Version     uint8
	Port        uint16
	Fingerprint Fingerprint
	Name        string
}

const (
	beaconMagic   = "SVNT"
	beaconVersion = 2
	beaconFlagMAC = 1
	beaconHdrLen  = 41
	beaconMACLen  = 16
)

// Beacon errors.
var (
	// errBadBeacon: not a servent beacon or malformed.
	errBadBeacon = errors.New("bad beacon")
	// errBeaconKey: the beacon's MAC is missing or wrong for our drill key.
	errBeaconKey = errors.New("beacon not keyed with our drill key")
)

// encodeBeacon returns b's wire form, with a MAC when keys are set.
func encodeBeacon(b beacon, keys drillKeys) []byte {
	name := b.Name
	if len(name) > 255 {
		name = name[:255]
	}
	out := make([]byte, 0, beaconHdrLen+len(name)+beaconMACLen)
	out = append(out, beaconMagic...)
	var flags byte
	if keys.set {
		flags |= beaconFlagMAC
	}
	out = append(out, beaconVersion, flags)
	out = binary.BigEndian.AppendUint16(out, b.Port)
	out = append(out, b.Fingerprint[:]...)
	out = append(out, byte(len(name)))
	out = append(out, name...)
	if keys.set {
		out = append(out, keys.beaconMAC(out)...)
	}
	return out
}

// decodeBeacon parses and authenticates a beacon. With keys set, only
// beacons with a valid MAC pass; without, only unkeyed beacons pass.
func decodeBeacon(p []byte, keys drillKeys) (beacon, error) {
	if len(p) < beaconHdrLen || string(p[:4]) != beaconMagic {
		return beacon{}, errBadBeacon
	}
	if p[4] < beaconVersion {
		return beacon{}, fmt.Errorf("version %d: %w", p[4], errBadBeacon)
	}
	flags := p[5]
	nl := int(p[beaconHdrLen-1])
	end := beaconHdrLen + nl
	if len(p) < end {
		return beacon{}, fmt.Errorf("truncated name: %w", errBadBeacon)
	}
	keyed := flags&beaconFlagMAC != 0
	if keyed != keys.set {
		return beacon{}, errBeaconKey
	}
	if keyed {
		if len(p) < end+beaconMACLen || !hmac.Equal(p[end:end+beaconMACLen], keys.beaconMAC(p[:end])) {
			return beacon{}, errBeaconKey
		}
	}
	b := beacon{
		Version: p[4],
		Port:    binary.BigEndian.Uint16(p[6:]),
		Name:    string(p[beaconHdrLen:end]),
	}
	copy(b.Fingerprint[:], p[8:40])
	return b, nil
}
