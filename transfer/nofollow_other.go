//go:build !unix

package transfer

// oNoFollow is 0 where the platform has no O_NOFOLLOW; the EvalSymlinks
// check in openShared still applies.
const oNoFollow = 0
