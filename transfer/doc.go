// Package transfer owns the transfer plane: serving shared files over
// HTTP/3 by content hash only (Server), downloading them from one or many
// peers with per-chunk verification, resume and multi-source scheduling
// (Downloader). Progress is reported through Request.Progress; the CLI
// draws it.
//
// The package knows nothing of the overlay or of badger: it declares the
// small interfaces it needs (Catalog for serving, State for download
// state) and takes a dial function for outgoing QUIC connections, so the
// daemon can serve and dial over its one UDP socket.
//
// Wire format (any HTTP/3 client can use it):
//
//	GET /uri-res/N2R?urn:blake3:<hex>  the file's bytes (Range supported)
//	GET /f/<hex>                       the same
//	GET /outboard/<hex>                the Bao outboard tree (1 MiB groups)
//
// With a Swarm shared by the Server and the Downloader, a node serves the
// verified chunks of its downloads in progress (X-Available-Ranges, 416
// "not yet" for the rest) and downloaders exchange holders by key (X-Alt);
// see swarm.go and docs/PROTOCOL.md §14.
//
// A partial download is written to "<OutDir>/<Name>.<first 12 hex digits
// of the hash>.part" (created with O_EXCL, never through a link) and
// renamed to "<OutDir>/<Name>" (or "<Name> (1).ext" and so on, never
// overwriting) once every chunk is verified and the file is synced. Each
// chunk is verified once: on arrival, or read back from disk when a later
// run resumes the download.
//
// Imports: storage and content only among servent's packages.
package transfer
