// Package daemon wires a servent node together: the badger catalog and its
// scanner, the overlay (one UDP port, membership, discovery), the hierarchy
// (election, leaf attachment, index registration), the query routing core
// fed from the datagram plane, the QUIC transfer plane, and the control API
// the CLI talks to over a unix socket.
//
// Lifecycle: New opens the data dir, Start joins the network and serves,
// Close leaves gracefully and joins every goroutine; Close is idempotent.
//
// Imports: every package below it (api, browse, configs, content, kit,
// overlay, query, role, storage, transfer, ultrapeer, web, internal/names,
// internal/safefile); only cmd/servent imports daemon.
package daemon
