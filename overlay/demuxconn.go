package overlay

import (
	"net"

	"golang.org/x/net/ipv4"
)

// demuxConn is the node's UDP socket as quic-go sees it. quic-go reads
// through ReadBatch (recvmmsg, as it would on the bare socket, so its
// batching, GSO and ECN stay on); demuxConn hands every non-QUIC datagram
// (first byte 0x00-0x3F) straight to the node's planes and returns only QUIC
// packets. Non-QUIC datagrams therefore never wait in quic-go's 32-entry
// non-QUIC queue, which drops bursts when its reader is not scheduled.
type demuxConn struct {
	*net.UDPConn
	batch   *ipv4.PacketConn
	deliver func(b []byte, from net.Addr) // must copy b
}

func newDemuxConn(c *net.UDPConn, deliver func(b []byte, from net.Addr)) *demuxConn {
	return &demuxConn{UDPConn: c, batch: ipv4.NewPacketConn(c), deliver: deliver}
}

// isQUIC reports whether a datagram is QUIC: quic-go treats any first byte
// with a top bit set as QUIC.
func isQUIC(b []byte) bool { return len(b) > 0 && b[0]&0xC0 != 0 }

// ReadBatch reads datagrams like ipv4.PacketConn.ReadBatch, delivers the
// non-QUIC ones, and returns the QUIC ones at the front of ms. It blocks
// until at least one QUIC packet arrives or the socket fails. Each message
// keeps its own buffers: a QUIC packet behind a non-QUIC one is copied
// forward, because quic-go pairs each message index with its buffer.
func (c *demuxConn) ReadBatch(ms []ipv4.Message, flags int) (int, error) {
	for {
		n, err := c.batch.ReadBatch(ms, flags)
		if err != nil {
			return 0, err
		}
		kept := 0
		for i := range n {
			m := &ms[i]
			data := m.Buffers[0][:m.N]
			if !isQUIC(data) {
				c.deliver(data, m.Addr)
				continue
			}
			if kept != i {
				k := &ms[kept]
				k.N = copy(k.Buffers[0], data)
				k.NN = copy(k.OOB, m.OOB[:m.NN])
				k.Flags, k.Addr = m.Flags, m.Addr
			}
			kept++
		}
		if kept > 0 {
			return kept, nil
		}
	}
}

// ReadFrom serves quic-go's fallback read path the same way.
func (c *demuxConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.UDPConn.ReadFrom(b)
		if err != nil || isQUIC(b[:n]) {
			return n, addr, err
		}
		c.deliver(b[:n], addr)
	}
}

// deliverDatagram is the node's demuxConn callback: it copies the datagram
// and dispatches it by plane byte.
func (n *Node) deliverDatagram(b []byte, addr net.Addr) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || len(b) == 0 {
		n.stats.droppedMalformed.Add(1)
		return
	}
	from := unmapped(ua.AddrPort())
	n.dispatchRaw(b[0], from, append([]byte(nil), b[1:]...))
}
