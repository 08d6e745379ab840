package overlay

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/quic-go/quic-go"
)

// Stream status bytes: the accepting side answers the stream tag with one.
const (
	streamOK     byte = 0x00
	streamBadKey byte = 0x01
	streamTagLen      = 16
	// streamCodeBadKey is the QUIC stream error code of a refused stream.
	streamCodeBadKey quic.StreamErrorCode = 0x5e
)

// streamConn is a QUIC stream wrapped as a net.Conn with its connection's
// addresses. Close closes the send side (the peer reads EOF) and stops reading.
type streamConn struct {
	s          *quic.Stream
	local      net.Addr
	remote     net.Addr
	needStatus bool // dialer: the first byte read is the acceptor's status
}

var _ net.Conn = (*streamConn)(nil)

func newStreamConn(c *quic.Conn, s *quic.Stream, dialer bool) *streamConn {
	return &streamConn{s: s, local: c.LocalAddr(), remote: c.RemoteAddr(), needStatus: dialer}
}

func (c *streamConn) Read(b []byte) (int, error) {
	if c.needStatus {
		var st [1]byte
		if k, err := c.s.Read(st[:]); k == 0 {
			return 0, c.mapErr(err)
		}
		c.needStatus = false
		if st[0] != streamOK {
			return 0, c.mapErr(&quic.StreamError{ErrorCode: streamCodeBadKey, Remote: true})
		}
	}
	k, err := c.s.Read(b)
	return k, c.mapErr(err)
}

func (c *streamConn) Write(b []byte) (int, error) {
	k, err := c.s.Write(b)
	return k, c.mapErr(err)
}

// mapErr turns the peer's key refusal into ErrDrillKey.
func (c *streamConn) mapErr(err error) error {
	var se *quic.StreamError
	if errors.As(err, &se) && se.Remote && se.ErrorCode == streamCodeBadKey {
		return fmt.Errorf("peer %s refused the stream: %w", c.remote, ErrDrillKey)
	}
	return err
}

func (c *streamConn) Close() error {
	c.s.CancelRead(0)
	return c.s.Close()
}

func (c *streamConn) LocalAddr() net.Addr                { return c.local }
func (c *streamConn) RemoteAddr() net.Addr               { return c.remote }
func (c *streamConn) SetDeadline(t time.Time) error      { return c.s.SetDeadline(t) }
func (c *streamConn) SetReadDeadline(t time.Time) error  { return c.s.SetReadDeadline(t) }
func (c *streamConn) SetWriteDeadline(t time.Time) error { return c.s.SetWriteDeadline(t) }
