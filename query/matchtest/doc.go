// Package matchtest holds the table of real-world file names and queries
// that every search path is tested with: the matching rule (package query),
// the ultrapeer registry, the daemon's network search and the web page;
// and the random names and words (RandomNames, RandomWord) the tests that
// compare two matchers on random inputs draw from.
//
// Imports: the standard library only; only _test.go files import it.
package matchtest
