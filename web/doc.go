// Package web owns the phone page: a small HTTP server on the LAN that
// serves one embedded, mobile-friendly HTML page (no external assets,
// usable without JavaScript) to search the whole servent network through
// this node, download a result (fetched and verified by the node, then
// streamed with Range support) and, optionally, upload a file into a drop
// folder the node shares.
//
// The package knows nothing of the overlay: it calls the node through the
// Backend interface it declares, which the daemon implements.
//
// Hardening: html/template escaping of every name, no request path or name
// ever reaches the filesystem (downloads go hash → Backend.Fetch; uploads
// go through an os.Root on the drop folder under a sanitised name), an
// optional passphrase with HttpOnly SameSite=Strict session cookies,
// CSRF tokens and an Origin check on every POST, a Host check against DNS
// rebinding, per-client rate limits, and bounded header size and timeouts.
//
// Imports: api, browse, kit, content and internal/names; never daemon,
// overlay or storage: the node is behind Backend.
package web
