// Package archtest holds the tests that keep the repository's shape: no
// Go file over MaxFileLines lines and no function over MaxFuncLines lines
// outside tests (size_test.go), and the import direction between servent's
// packages, with the pure packages importing no I/O library
// (imports_test.go). It has no code of its own beyond those limits.
//
// Imports: the standard library only; it reads the repository's sources
// with go/parser and asks `go list` for the package graph.
package archtest

// MaxFileLines is the most lines a non-test Go file may have.
const MaxFileLines = 400

// MaxFuncLines is the most lines a non-test function may have, counted
// from its func keyword to its closing brace.
const MaxFuncLines = 60
