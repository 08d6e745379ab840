package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/servent-p2p/servent/kit"
)

// Defaults and limits.
const (
	// DefaultMaxUpload caps one upload request when Config.MaxUpload is 0.
	DefaultMaxUpload = 1 << 30
	// DefaultUploadQuota caps the drop folder when Config.UploadQuota is 0.
	DefaultUploadQuota = 4 << 30
	// DefaultSearchTimeout is how long a page search listens for answers.
	DefaultSearchTimeout = 3 * time.Second
	// DefaultReadHeaderTimeout cuts clients that send headers slowly.
	DefaultReadHeaderTimeout = 5 * time.Second
	// DefaultZipMaxFiles caps the files of one folder .zip when
	// Config.ZipMaxFiles is 0.
	DefaultZipMaxFiles = 1000
	// DefaultZipMaxBytes caps the bytes of one folder .zip when
	// Config.ZipMaxBytes is 0.
	DefaultZipMaxBytes = 1 << 30
	// DefaultFetchTimeout bounds how long the node fetches a file for a download.
	DefaultFetchTimeout = 30 * time.Minute

	maxHeaderBytes = 16 << 10
	maxQueryLen    = 256              // bytes of the q parameter
	maxResults     = 200              // distinct files shown per search
	maxLoginBody   = 4 << 10          // bytes of a login form
	readTimeout    = 30 * time.Second // whole request, except upload bodies
	writeTimeout   = 60 * time.Second // whole response, except downloads
	idleTimeout    = 60 * time.Second // keep-alive between requests
	streamIdle     = 60 * time.Second // longest pause inside an upload or a download
	sessionTTL     = 12 * time.Hour
	maxSessions    = 1024
	maxConcurrent  = 8 // searches and fetches in flight, each
)

// Config configures the web server. The zero value of every field but
// Listen is usable.
type Config struct {
	// Listen is the TCP IP:PORT to listen on (port 0 picks a free one).
	Listen string
	// DropDir is the folder uploads are written to; it should be one of the
	// node's shares. Empty: uploads are off and the page shows no form.
	DropDir string
	// MaxUpload caps the bytes of one upload request (0: DefaultMaxUpload).
	MaxUpload int64
	// UploadQuota caps the bytes in DropDir, earlier uploads, files put
	// there by other means and uploads in progress included (0:
	// DefaultUploadQuota). An upload that would pass it is refused.
	UploadQuota int64
	// Passphrase is the page's own passphrase, never the drill key: the
	// login crosses the LAN in clear HTTP, so whoever sniffs it may use the
	// page, and must not learn the key that joins the network (see
	// NewPassphrase). Empty: the network is open, the page says so and asks
	// for nothing; otherwise the page asks for it once per phone, or takes
	// it from the login link in the QR code (LoginURL).
	Passphrase string
	// Kit are the servent binaries the node offers (package kit): the page
	// links the ones for the visitor's computer, with their SHA-256.
	Kit []kit.Binary
	// NodeName is shown in the page title (optional).
	NodeName string
	// ZipMaxFiles and ZipMaxBytes cap a folder downloaded as one .zip (0:
	// DefaultZipMaxFiles, DefaultZipMaxBytes): a bigger folder gets a
	// message pointing to `servent get PEER:FOLDER` instead of a link.
	ZipMaxFiles int
	ZipMaxBytes int64
	// SearchTimeout is how long a search listens (0: DefaultSearchTimeout).
	SearchTimeout time.Duration
	// FetchTimeout bounds the node's fetch for one download (0: DefaultFetchTimeout).
	FetchTimeout time.Duration
	// ReadHeaderTimeout cuts slow-header clients (0: DefaultReadHeaderTimeout).
	ReadHeaderTimeout time.Duration
	// Logger receives the server's logs (nil: slog.Default()).
	Logger *slog.Logger
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("web: bad config")

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if _, err := netip.ParseAddrPort(c.Listen); err != nil {
		return c, fmt.Errorf("%w: listen %q is not IP:PORT: %w", ErrConfig, c.Listen, err)
	}
	if c.MaxUpload < 0 {
		return c, fmt.Errorf("%w: max upload %d is negative", ErrConfig, c.MaxUpload)
	}
	if c.MaxUpload == 0 {
		c.MaxUpload = DefaultMaxUpload
	}
	if c.UploadQuota < 0 {
		return c, fmt.Errorf("%w: upload quota %d is negative", ErrConfig, c.UploadQuota)
	}
	if c.UploadQuota == 0 {
		c.UploadQuota = DefaultUploadQuota
	}
	if c.ZipMaxFiles < 0 || c.ZipMaxBytes < 0 {
		return c, fmt.Errorf("%w: zip limits %d files, %d bytes: negative", ErrConfig, c.ZipMaxFiles, c.ZipMaxBytes)
	}
	if c.ZipMaxFiles == 0 {
		c.ZipMaxFiles = DefaultZipMaxFiles
	}
	if c.ZipMaxBytes == 0 {
		c.ZipMaxBytes = DefaultZipMaxBytes
	}
	if c.SearchTimeout <= 0 {
		c.SearchTimeout = DefaultSearchTimeout
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
