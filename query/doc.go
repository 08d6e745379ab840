// Package query owns the query plane: the Gnutella-0.6-style descriptor codec
// (header, Query, QueryHit, GGEP, HUGE URNs), the QRP keyword tables that
// ultrapeers exchange for last-hop routing, the matching rule every index uses
// (MatchesFile), and the routing core (Router).
//
// The Router is a synchronous state machine: it is fed events ("descriptor d
// arrived from peer p at time t") and returns the descriptors to send. It
// starts no goroutines, never reads the clock and does no I/O, so the daemon
// drives it from real sockets and the simulator drives the very same code
// from a virtual network with a virtual clock. docs/PROTOCOL.md describes the
// wire format byte for byte. The codec functions and QRPHash are pure and safe
// for concurrent use; Router and Table are not.
//
// Imports: role and content only among servent's packages, and no I/O
// library (no badger, fsnotify, quic-go or memberlist):
// internal/archtest's TestImportDirection and TestPureImportsNoIO check it.
package query
