package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/overlay"
)

// memberDialTimeout bounds the handshake of a connection to a member.
const memberDialTimeout = 5 * time.Second

// errNoProtocol: the member offers none of the ALPNs asked for; it runs
// another servent version.
var errNoProtocol = errors.New("the member does not speak this protocol")

// peerStream is one stream of a connection to a member. Close closes the
// stream, then the connection.
type peerStream interface {
	io.ReadWriteCloser
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	// connContext ends when the connection closes; its cause says why.
	connContext() context.Context
}

// streamDialer opens streams to members: the seam between the leaf
// attacher and the QRP links and the network (memberDialer), or a fake.
type streamDialer interface {
	// dialStream connects to member peer with protocol alpn and opens a
	// stream. It fails with an error wrapping errNoProtocol when peer does
	// not serve alpn. It blocks until the stream is open or ctx ends.
	dialStream(ctx context.Context, peer, alpn string) (peerStream, error)
}

// memberDialer dials members over the overlay's pinned QUIC connections.
type memberDialer struct{ ov *overlay.Node }

var _ streamDialer = memberDialer{}

func (m memberDialer) dialStream(ctx context.Context, peer, alpn string) (peerStream, error) {
	dctx, cancel := context.WithTimeout(ctx, memberDialTimeout)
	conn, err := m.ov.DialMember(dctx, peer, alpn)
	cancel()
	if noALPN(err) {
		return nil, fmt.Errorf("%s to %s: %w", alpn, peer, errNoProtocol)
	}
	if err != nil {
		return nil, err
	}
	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		conn.CloseWithError(0, "")
		return nil, err
	}
	return &quicStream{Stream: stream, conn: conn}, nil
}

// quicStream is a peerStream on QUIC.
type quicStream struct {
	*quic.Stream
	conn *quic.Conn
}

func (s *quicStream) connContext() context.Context { return s.conn.Context() }

func (s *quicStream) Close() error {
	err := s.Stream.Close()
	s.conn.CloseWithError(0, "")
	return err
}

// noALPN reports whether err is a handshake that failed because the peer
// offers none of our ALPNs: it runs another version of the protocol.
func noALPN(err error) bool {
	var te *quic.TransportError
	return errors.As(err, &te) && te.ErrorCode == quic.TransportErrorCode(0x100+120) // TLS alert no_application_protocol
}
