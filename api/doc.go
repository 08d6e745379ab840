// Package api is the control API between the servent daemon and its CLI:
// the request and response types both sides use, the routes, and a client.
//
// The daemon serves HTTP/JSON on a unix socket in its data directory
// (SocketPath), so only local users with access to that directory can
// drive it, and nothing listens on a TCP port. Streaming calls (search,
// get) answer with one JSON object per line as events happen.
//
// Imports: storage and transfer (for the catalog and download types the
// API carries), content and internal/names (Listing.Layout); never daemon
// or the CLI, which both import it.
package api
