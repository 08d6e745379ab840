package transfer

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/content"
)

// Sentinel errors of Downloader.Get; test with errors.Is.
var (
	// ErrNoSources: no source could serve the file (none given, all
	// unreachable, all answered "not found", or all dropped as liars).
	ErrNoSources = errors.New("no source has the file")
	// ErrDiskFull: the output file system ran out of space.
	ErrDiskFull = errors.New("disk full")
	// ErrReadOnly: the output directory cannot be written.
	ErrReadOnly = errors.New("output directory is not writable")
	// ErrVerify: the assembled file does not hash to the content hash.
	ErrVerify = errors.New("downloaded file does not match its hash")
	// ErrBadRequest: the request is unusable (zero hash, bad name, ...).
	ErrBadRequest = errors.New("bad download request")
)

// Defaults for Config.
const (
	DefaultPerSource    = 4
	DefaultChunkTimeout = 30 * time.Second
	DefaultMaxFailures  = 4
	DefaultPartialWait  = time.Minute
)

// DialFunc opens a QUIC connection to addr. The daemon dials over its one
// quic.Transport; tests dial from their own.
type DialFunc func(ctx context.Context, addr netip.AddrPort, tlsConf *tls.Config, quicConf *quic.Config) (*quic.Conn, error)

// Source is one peer known to hold the file. Fingerprint is the SHA-256
// of its TLS SubjectPublicKeyInfo; zero means "do not pin".
type Source struct {
	Name        string
	Addr        netip.AddrPort
	Fingerprint [32]byte
	// Partial: the peer said it holds only part of the file (a partial
	// hit): it counts as holding nothing until its first answer says what
	// it holds, as a holder heard of in the download mesh does.
	Partial bool
}

// Request asks for one file.
type Request struct {
	// Hash is the content hash. Required.
	Hash content.Hash
	// Size is the file size if known; <= 0 means unknown (taken from the
	// verified outboard).
	Size int64
	// Name is the final file name (a base name; path elements are
	// refused). Empty means the hash in hex.
	Name string
	// OutDir is the output directory; empty means the current directory.
	OutDir string
	// Sources are the peers to fetch from. At least one.
	Sources []Source
	// Progress, if set, is called after each verified chunk and once at
	// the end, never concurrently with itself.
	Progress func(Progress)
	// Find, if set, is asked for sources again (the daemon: a new search
	// by hash) while no live source is known to hold a missing chunk and
	// no chunk came for 5 s (a quarter of Config.PartialWait if less), at
	// most that often; the sources it returns that the download does not
	// use yet join it. It blocks.
	Find func(context.Context) []Source
}

// Progress is a snapshot of a running download.
type Progress struct {
	Name     string
	Hash     content.Hash
	Size     int64
	Done     int64 // verified bytes, those resumed included
	Sources  int   // sources still in use
	Finished bool  // the last report of this download
	// Queued lists the sources that queued this download (busy: every
	// upload slot taken) and its place there.
	Queued []QueuePlace
}

// QueuePlace is a download's place in a source's upload queue.
type QueuePlace struct {
	Source   string
	Position int           // 1 is next
	Length   int           // peers waiting there
	Wait     time.Duration // the source's estimate; 0 if unknown
}

// SourceUse says what one source contributed.
type SourceUse struct {
	Name    string
	Addr    string
	Bytes   int64  // verified bytes written from this source
	Chunks  int    // verified chunks written from this source
	Liar    bool   // sent data that failed verification
	Redials int    // times its connection was lost and dialled again
	Err     string // why it was dropped, if it was
}

// Result describes a finished download.
type Result struct {
	Path          string
	Size          int64
	Hash          content.Hash
	Duration      time.Duration
	Sources       []SourceUse
	ChunksFetched int // chunks fetched and verified by this call
	ChunksResumed int // chunks already verified by an earlier run
	Liars         []string
	Renamed       bool // Path is not OutDir/Name because that existed
}

// Config configures a Downloader. Only State is required.
type Config struct {
	// State persists download state for resume. Required.
	State State
	// Dial opens QUIC connections; nil dials from a fresh UDP socket
	// (quic.DialAddr).
	Dial DialFunc
	// TLSConfig builds the client TLS config for a source; nil pins the
	// source's Fingerprint (see KeyFingerprint) with ALPN "h3".
	TLSConfig func(Source) *tls.Config
	// QUICConfig for outgoing connections; nil uses large flow-control
	// windows suited to bulk transfer.
	QUICConfig *quic.Config
	// PerSource is the number of chunks in flight per source (default 4).
	PerSource int
	// ChunkTimeout bounds one chunk request (default 30 s).
	ChunkTimeout time.Duration
	// MaxFailures is how many consecutive failed requests drop a source
	// (default 4); a source that lies or answers "not found" is dropped
	// at once.
	MaxFailures int
	// Swarm, if set, is shared with this node's Server: the download's
	// verified chunks are served while it runs, chunks are fetched in a
	// random order, rarest first, and holders named in X-Alt become
	// sources. Nil: swarming is off.
	Swarm *Swarm
	// Resolve turns a holder's key, heard of in the download mesh, into a
	// Source to dial (false: unknown, e.g. not a member). Nil: holders
	// heard of are not used.
	Resolve func(Key) (Source, bool)
	// MaxSources caps one download's sources, holders learnt from the
	// mesh included (default DefaultMaxSources).
	MaxSources int
	// PartialWait bounds the wait of a download that no live source is
	// known to give a missing chunk (only partial holders are left, and
	// they listed none): once no chunk was verified for this long, Get
	// ends with ErrNoSources (the partial file is kept). Default
	// DefaultPartialWait; < 0: no bound.
	PartialWait time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}
