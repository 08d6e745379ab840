// Command kit builds the drill kit: servent for every platform of
// package kit (Linux amd64/arm64/arm, Windows amd64/arm64, macOS
// amd64/arm64), with SHA256SUMS and B3SUMS, in one folder. Run from the
// module root:
//
//	go run ./cmd/kit -out kit
//
// The same source and Go toolchain give the same bytes: the builds use
// -trimpath, -buildvcs=false, no cgo, and stamp -version (default: git
// describe of the checkout, or "dev" without git).
//
// Imports: kit only among servent's packages (the targets, the build and
// the sums); it is a thin flag parser over it.
package main
