// Package kit is the drill kit: servent cross-compiled for every platform
// a drill meets, with checksums, in one folder that a USB stick or one
// laptop carries into the room and that every node can serve to the rest.
//
// targets.go names the platforms and the binaries' file names, build.go
// builds a kit reproducibly (same source and toolchain, same bytes), sums.go
// writes and reads its checksum files, and folder.go reads a kit folder and
// tells which of its binaries fits a browser's platform.
//
// Imports: content (the BLAKE3 sums of the binaries) and internal/safefile
// among servent's packages; never daemon or web, which import it to serve
// the kit.
package kit
