package overlay

import (
	"sync/atomic"

	"github.com/quic-go/quic-go/qlog"
	"github.com/quic-go/quic-go/qlogwriter"
)

// dropTracer counts packets quic-go drops because a queue is full: mostly its
// 32-entry non-QUIC queue (the reader fell behind), rarely the QUIC server's
// handshake queue (both report the same event).
type dropTracer struct{ dropped *atomic.Uint64 }

var _ qlogwriter.Recorder = dropTracer{}

func (d dropTracer) RecordEvent(ev qlogwriter.Event) {
	if p, ok := ev.(qlog.PacketDropped); ok && p.Trigger == qlog.PacketDropDOSPrevention {
		d.dropped.Add(1)
	}
}

func (dropTracer) Close() error { return nil }
