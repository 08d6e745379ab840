//go:build !unix

package daemon

// restrictSocket does nothing: on Windows a file's mode bits only toggle
// its read-only attribute; the control socket is kept private by the ACL of
// the data dir (%LocalAppData%\servent is the user's own).
func restrictSocket(string) error { return nil }
