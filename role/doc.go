// Package role names a node's place in the hierarchy with one type: the
// role a node publishes in its metadata (package overlay), the role its
// configuration forces and the election decides (package ultrapeer), and
// the role the routing core acts on (package query).
//
// Imports: the standard library only (TestImportsNothing), so that all
// three can use it without importing each other.
package role
