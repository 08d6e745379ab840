// Package testutil holds the helpers that the tests of several packages
// share (Eventually). Only _test.go files import it.
//
// Imports: the standard library only.
package testutil
