// Package names is the one sanitiser for names that come from the network
// (file and folder names in hits and listings, node names, names typed
// into the phone page): Component and RelPath make them safe to create on
// disk, Display makes them safe to print on a terminal. The CLI, the
// daemon's downloads and the phone page all go through it.
//
// Imports: the standard library only.
package names
