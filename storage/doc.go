// Package storage owns everything servent keeps on disk about itself: the
// share catalog (one record per shared file with its BLAKE3 content hash and
// Bao outboard tree), the folder scanner and watcher that keep it current,
// the node identity key, the peer cache and the state of downloads in
// progress. It is backed by one badger/v4 database tuned for a small
// embedded footprint (memory.go) and compacted by the store itself, only
// when writes make it due (compact.go).
//
// Content hashes are BLAKE3-256 of the whole file (the value b3sum prints);
// the outboard is a Bao tree with 1 MiB chunk groups, so any 1 MiB-aligned
// range can be verified on its own (package content owns the hash, the
// outboard and the keyword rules; storage only keeps them).
//
// # Key layout
//
// Every key starts with a one-byte kind prefix; values start with a format
// version byte (currently 1) so the encoding can evolve.
//
//	'm' "catalog"                     catalog meta: version u64 BE, count u64 BE
//	'f' root 0x00 path                file record: size, mtime, hash
//	'h' hash[32] root 0x00 path       empty: secondary index hash -> file
//	'o' hash[32]                      Bao outboard tree, stored once per hash,
//	                                  deleted when the last 'h' entry goes
//	'i' "ed25519"                     node identity: 32-byte Ed25519 seed
//	'p' "peers"                       peer cache: address list, newest first
//	'd' hash[32]                      download record: size, start time,
//	                                  name, out dir, part path, outboard
//	'v' hash[32]                      download's verified-chunk bitmap, apart
//	                                  so MarkVerified rewrites only the bitmap
//
// root is the absolute share root as configured, path the share-relative
// slash-separated path; neither can contain a NUL byte on the platforms
// servent supports, so 0x00 separates them unambiguously and keeps the
// 'f' keys sorted by root, then path.
//
// # Scanning rules
//
// Only regular files are indexed. Directories reached through symlinks are
// not descended into; a symlink to a regular file is followed only if its
// fully resolved target lies inside the (resolved) share root and outside
// every excluded directory; the file is then indexed under the link's own
// path with the target's size and mtime. Devices, sockets and FIFOs are
// skipped, as are excluded directories (the data directory). A file whose
// size and mtime match its catalog record is not read again.
//
// Imports: content only among servent's packages (hashes and keywords);
// everything that keeps state on disk sits above it.
package storage
