// Package content owns what servent knows about a file's bytes and name,
// apart from where they are kept:
//
//   - the content hash: Hash (BLAKE3-256 of the whole file, the value b3sum
//     prints), its hex and "urn:blake3:" spellings (ParseHash, Hash.URN);
//   - chunks: ChunkSize (1 MiB, the unit of verification), NumChunks and
//     the Bao outboard tree (OutboardSize) that lets each chunk be checked
//     on its own;
//   - hashing: HashReader and HashFile compute the hash and the outboard;
//     VerifyOutboard and VerifyChunk check what a peer sent;
//   - keyword normalisation: Fold, Keywords and QueryWords, the one place
//     search text is normalised (the index, queries, QRP tables, the
//     simulator and the web page all use them).
//
// # What it may import
//
// The standard library, the BLAKE3 and Bao libraries and golang.org/x/text,
// nothing else: no servent package, and never an I/O package such as badger,
// fsnotify, quic-go or net. The pure routing cores (query, ultrapeer) import
// content, so whatever content imports ends up in them; storage (the badger
// catalog, scanner and watcher) and transfer (the downloader) build on it.
// HashFile opens a file by name with package os; that is the only I/O here.
package content
