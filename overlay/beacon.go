package overlay

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// beacon is a LAN discovery announcement.
//
// Wire layout (version 3): "SVNT" magic, version, flags (bit 0: MAC
// present), UDP port of the node's main socket (uint16 big-endian), the
// node's key fingerprint (32 bytes), name length (1 byte), name, the
// sender's clock (unix milliseconds, int64 big-endian), the sender's
// addresses (an address list as in metadata: count, then length-prefixed
// addresses), then with a drill key a 16-byte HMAC-SHA256 of everything
// before it. The receiver takes the beacon's source address, with the
// interface it arrived on as zone, as a candidate path to that key.
//
// With a drill key, the MAC binds the addresses and the time: a keyed
// beacon is taken only from an address it lists and within beaconWindow
// of the receiver's clock (check), so a captured beacon replayed from
// another address, or later, is dropped.
type beacon struct {
	Version     uint8
	Port        uint16
	Fingerprint Fingerprint
	Name        string
	Time        time.Time    // the sender's clock, millisecond precision
	Addrs       []netip.Addr // the sender's addresses, no zones
}

const (
	beaconMagic   = "SVNT"
	beaconVersion = 3
	beaconFlagMAC = 1
	beaconHdrLen  = 41
	beaconMACLen  = 16
)

// beaconWindow is how far a keyed beacon's time may be from the
// receiver's clock. LAN hosts in an outage keep the time they had (no NTP
// without the internet), so it is minutes, not seconds; the address
// binding, not the window, is what stops a replay from aiming nodes at
// another host.
const beaconWindow = 10 * time.Minute

// Beacon errors.
var (
	// errBadBeacon: not a servent beacon or malformed.
	errBadBeacon = errors.New("bad beacon")
	// errBeaconVersion: a servent beacon of another protocol version.
	errBeaconVersion = errors.New("beacon of another servent version")
	// errBeaconKey: the beacon's MAC is missing or wrong for our drill key.
	errBeaconKey = errors.New("beacon not keyed with our drill key")
	// errBeaconSource: a keyed beacon came from an address its sender
	// does not list (replayed from elsewhere).
	errBeaconSource = errors.New("beacon from an address its sender does not list")
	// errBeaconStale: a keyed beacon's time is outside beaconWindow
	// (replayed later, or the two clocks differ by more than that).
	errBeaconStale = errors.New("beacon time outside the window")
)

// encodeBeacon returns b's wire form, with a MAC when keys are set.
func encodeBeacon(b beacon, keys drillKeys) []byte {
	name := b.Name
	if len(name) > 255 {
		name = name[:255]
	}
	out := make([]byte, 0, beaconHdrLen+len(name)+9+17*len(b.Addrs)+beaconMACLen)
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
	out = binary.BigEndian.AppendUint64(out, uint64(b.Time.UnixMilli()))
	out = appendAddrList(out, b.Addrs)
	if keys.set {
		out = append(out, keys.beaconMAC(out)...)
	}
	return out
}

// decodeBeacon parses and authenticates a beacon. With keys set, only
// beacons with a valid MAC pass; without, only unkeyed beacons pass.
// Another version is errBeaconVersion, with both versions in the message.
func decodeBeacon(p []byte, keys drillKeys) (beacon, error) {
	if len(p) < beaconHdrLen || string(p[:4]) != beaconMagic {
		return beacon{}, errBadBeacon
	}
	if v := p[4]; v != beaconVersion {
		advice := "upgrade servent on the sender"
		if v > beaconVersion {
			advice = "upgrade servent on this host"
		}
		return beacon{}, fmt.Errorf("%w: version %d, this node speaks %d: %s (every host of a drill runs one release)", errBeaconVersion, v, beaconVersion, advice)
	}
	flags := p[5]
	nl := int(p[beaconHdrLen-1])
	end := beaconHdrLen + nl
	if len(p) < end+8 {
		return beacon{}, fmt.Errorf("truncated: %w", errBadBeacon)
	}
	ms := int64(binary.BigEndian.Uint64(p[end:]))
	addrs, rest, err := readAddrList(p[end+8:])
	if err != nil {
		return beacon{}, fmt.Errorf("%w: %w", errBadBeacon, err)
	}
	body := len(p) - len(rest)
	keyed := flags&beaconFlagMAC != 0
	if keyed != keys.set {
		return beacon{}, errBeaconKey
	}
	if keyed {
		if len(rest) < beaconMACLen || !hmac.Equal(rest[:beaconMACLen], keys.beaconMAC(p[:body])) {
			return beacon{}, errBeaconKey
		}
	}
	b := beacon{
		Version: p[4],
		Port:    binary.BigEndian.Uint16(p[6:]),
		Name:    string(p[beaconHdrLen:end]),
		Time:    time.UnixMilli(ms),
		Addrs:   addrs,
	}
	copy(b.Fingerprint[:], p[8:40])
	return b, nil
}

// check applies what a keyed beacon's MAC binds: it must come from one of
// the addresses it lists, within beaconWindow of now. An open network
// authenticates nothing (anyone may write any address and time), so there
// it checks nothing.
func (b beacon) check(from netip.Addr, now time.Time, keyed bool) error {
	if !keyed {
		return nil
	}
	if !slices.Contains(b.Addrs, from.Unmap().WithZone("")) {
		return fmt.Errorf("%w: from %s, lists %v", errBeaconSource, from, b.Addrs)
	}
	if skew := b.Time.Sub(now); skew > beaconWindow || skew < -beaconWindow {
		return fmt.Errorf("%w: its clock is %v off ours, the window is %v (set the clocks, or join with --seed)", errBeaconStale, skew.Round(time.Second), beaconWindow)
	}
	return nil
}
