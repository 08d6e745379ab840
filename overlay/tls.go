package overlay

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// Pinning errors.
var (
	// ErrNoPeerCert: the peer presented no certificate where one is required.
	ErrNoPeerCert = errors.New("peer presented no certificate")
	// ErrFingerprintMismatch: the peer's key is not the one expected.
	ErrFingerprintMismatch = errors.New("peer fingerprint mismatch")
	// ErrNotMember: the peer's key is not published by any current member.
	ErrNotMember = errors.New("peer is not a member")
)

// tlsServerName is sent as SNI; certificates are pinned, never verified by name.
const tlsServerName = "servent"

// serverTLS returns the listener's TLS config: it presents the node
// certificate, offers every registered ALPN and requests (without requiring)
// a client certificate. With a drill key, connections on ALPNs other than
// memberlist's must present the key of a current member.
func (n *Node) serverTLS(protos []string) *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS13,
		Certificates:     []tls.Certificate{n.cert},
		NextProtos:       protos,
		ClientAuth:       tls.RequestClientCert,
		VerifyConnection: n.verifyClient,
	}
}

func (n *Node) verifyClient(cs tls.ConnectionState) error {
	if !n.keys.set || cs.NegotiatedProtocol == ALPNMemberlist {
		// Memberlist streams prove the drill key themselves (stream tag).
		return nil
	}
	if len(cs.PeerCertificates) == 0 {
		return ErrNoPeerCert
	}
	fp := FingerprintOf(cs.PeerCertificates[0])
	if !n.isMemberFingerprint(fp) {
		return fmt.Errorf("client %s: %w", fp, ErrNotMember)
	}
	return nil
}

// ClientTLS returns a TLS client config that presents the node certificate and
// accepts only a server whose fingerprint is expect (any server when expect is
// zero). NextProtos is left empty for the caller (http3 sets "h3" itself).
// Safe for concurrent use; each call returns a new config.
func (n *Node) ClientTLS(expect Fingerprint) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{n.cert},
		ServerName:         tlsServerName,
		InsecureSkipVerify: true, // replaced by the pin in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrNoPeerCert
			}
			if expect.IsZero() {
				return nil
			}
			if got := FingerprintOf(cs.PeerCertificates[0]); got != expect {
				return fmt.Errorf("got %s, want %s: %w", got, expect, ErrFingerprintMismatch)
			}
			return nil
		},
	}
}
