//go:build !unix

package transfer

import "io/fs"

// oNoFollow is 0 where the platform has no O_NOFOLLOW; the EvalSymlinks
// check in openShared and the Lstat check in openPartialFile still apply.
const oNoFollow = 0

// extraLinks is false where the link count is not known.
func extraLinks(fs.FileInfo) bool { return false }
