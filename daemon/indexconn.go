package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/ultrapeer"
)

// serveIndexConn hands a leaf's index connection to the index server.
func (d *Daemon) serveIndexConn(conn *quic.Conn) {
	defer conn.CloseWithError(0, "")
	m, ok := d.ov.MemberByConn(conn)
	if !ok {
		return
	}
	owner := ultrapeer.Owner{ID: m.Name, Addr: m.Addr, Fingerprint: m.Meta.Fingerprint}
	ctx, cancel := context.WithCancel(d.ctx)
	defer cancel()
	stream, err := conn.AcceptStream(ctx)
	if err != nil {
		return
	}
	defer stream.Close()
	closeConn := func(reason string) { conn.CloseWithError(0, reason) }
	if d.indexes.serve(ctx, owner, stream, closeConn) {
		stream.CancelRead(0) // the leaf may be sending more parts
		closeAfterReply(conn, stream)
	}
}

// refuseOldIndexConn answers a leaf running an older index plane with a
// refusal it understands (bad update) and says why in this node's log.
func (d *Daemon) refuseOldIndexConn(conn *quic.Conn) {
	defer conn.CloseWithError(0, "index protocol "+ultrapeer.ALPNIndexV1+" is not served: run the same servent version on every node")
	name := "?"
	if m, ok := d.ov.MemberByConn(conn); ok {
		name = m.Name
	}
	d.log.Warn("a leaf runs an older servent (index protocol "+ultrapeer.ALPNIndexV1+", this node speaks "+ultrapeer.ALPNIndex+"): refused; run the same version on every node", "leaf", name)
	ctx, cancel := context.WithTimeout(d.ctx, 5*time.Second)
	defer cancel()
	stream, err := conn.AcceptStream(ctx)
	if err != nil {
		return
	}
	stream.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := ultrapeer.ReadFrame(stream); err == nil || errors.Is(err, ultrapeer.ErrUnsupportedVersion) {
		ultrapeer.WriteFrame(stream, &ultrapeer.Refuse{Reason: ultrapeer.RefuseBadUpdate})
	}
	closeAfterReply(conn, stream)
}

// replyGrace bounds how long a refused leaf is given to read the refusal
// and close the connection itself.
const replyGrace = 2 * time.Second

// closeAfterReply closes stream and waits, at most replyGrace, for the
// peer to close conn: closing the connection at once could discard the
// reply just written (CONNECTION_CLOSE does not wait for stream data).
func closeAfterReply(conn *quic.Conn, stream *quic.Stream) {
	stream.Close()
	t := time.NewTimer(replyGrace)
	defer t.Stop()
	select {
	case <-conn.Context().Done():
	case <-t.C:
	}
}
