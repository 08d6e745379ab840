// Package browse is Gnutella's Browse Host rebuilt on the node's QUIC
// socket: a member asks a peer for the list of files it shares (or those
// under one folder) on a connection with ALPN "servent-browse/1", pinned
// and members-only like every other plane. It owns the wire format
// (Request, Listing; docs/PROTOCOL.md) and the folder arithmetic shared by
// `servent browse`, `servent get PEER:FOLDER` and the phone page.
//
// One request per stream: the client writes a Request and closes its
// side; the server answers with one Listing and closes. Decoders check
// every length against a named limit before allocating.
//
// Imports: content only among servent's packages (hashes); never storage,
// overlay or daemon: the caller hands it the QUIC streams.
package browse
