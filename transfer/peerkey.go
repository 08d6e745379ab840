package transfer

import (
	"crypto/tls"
	"encoding/hex"
	"net"
	"net/http"
)

// connPeer names the peer at the other end of a connection for upload
// fairness: its key fingerprint when it presented a certificate (TLS 1.3
// makes it prove it holds the key), else its IP address (a browser or any
// other plain HTTP client).
func connPeer(cs tls.ConnectionState, remote net.Addr) string {
	if len(cs.PeerCertificates) > 0 {
		fp := KeyFingerprint(cs.PeerCertificates[0])
		return "key:" + hex.EncodeToString(fp[:])
	}
	if a, ok := remote.(*net.UDPAddr); ok {
		return "ip:" + a.IP.String()
	}
	host, _, err := net.SplitHostPort(remote.String())
	if err != nil {
		host = remote.String()
	}
	return "ip:" + host
}

// requestPeer names the peer that sent r, as connPeer does.
func requestPeer(r *http.Request) string {
	var cs tls.ConnectionState
	if r.TLS != nil {
		cs = *r.TLS
	}
	return connPeer(cs, stringAddr(r.RemoteAddr))
}

// stringAddr is a net.Addr known only by its string form.
type stringAddr string

func (a stringAddr) Network() string { return "" }
func (a stringAddr) String() string  { return string(a) }
