// Package safefile holds the small file operations several packages need and
// must get right the same way: CopyNew copies into a new file, synced, and
// leaves nothing behind when it fails.
//
// Imports: the standard library only.
package safefile
