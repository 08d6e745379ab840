package browse

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/servent-p2p/servent/content"
)

// ALPN is the TLS application protocol of browse connections.
const ALPN = "servent-browse/1"

// Wire limits.
const (
	// Version is the format version both messages carry.
	Version = 1
	// MaxEntries is the most files one listing carries.
	MaxEntries = 1 << 20
	// MaxPathLen is the most bytes of a path (a file's, or the folder asked
	// for).
	MaxPathLen = 4096
	// MaxSize is the largest file size a listing may claim (1 PiB).
	MaxSize = 1 << 50
	// MaxListingBytes is the most bytes of one listing on the wire (about
	// 400,000 files with 100-byte paths).
	MaxListingBytes = 64 << 20
	// maxReason is the most bytes of a refusal's reason.
	maxReason = 512
)

// Message tags.
const (
	tagRequest = 'B'
	tagListing = 'L'
)

// Listing status bytes.
const (
	statusOK      = 0
	statusRefused = 1
)

// Decoding errors.
var (
	// ErrMalformed: the bytes are not a message of this version.
	ErrMalformed = errors.New("browse: malformed message")
	// ErrTooLarge: a count or length is over its limit.
	ErrTooLarge = errors.New("browse: message over its limit")
	// ErrRefused: the peer answered with a refusal (its reason follows).
	ErrRefused = errors.New("browse: refused by the peer")
)

// Request asks for the files under Folder (share-relative, slash-separated;
// "" for everything).
type Request struct {
	Folder string
}

// Entry is one shared file of a listing.
type Entry struct {
	Path string       // share-relative, slash-separated, as in search hits
	Size int64        // bytes
	Hash content.Hash // BLAKE3 content hash: what a download asks for
}

// WriteRequest writes r to w.
func WriteRequest(w io.Writer, r Request) error {
	if err := checkPath(r.Folder, true); err != nil {
		return err
	}
	b := []byte{tagRequest, Version}
	b = binary.AppendUvarint(b, uint64(len(r.Folder)))
	_, err := w.Write(append(b, r.Folder...))
	return err
}

// ReadRequest reads one Request from r.
func ReadRequest(r io.Reader) (Request, error) {
	br := bufio.NewReader(io.LimitReader(r, 16+MaxPathLen))
	if err := readHeader(br, tagRequest); err != nil {
		return Request{}, err
	}
	folder, err := readString(br, MaxPathLen)
	if err != nil {
		return Request{}, err
	}
	if err := checkPath(folder, true); err != nil {
		return Request{}, err
	}
	return Request{Folder: folder}, nil
}

// WriteListing writes the files of a listing to w.
func WriteListing(w io.Writer, files []Entry) error {
	if len(files) > MaxEntries {
		return fmt.Errorf("%w: %d files", ErrTooLarge, len(files))
	}
	bw := bufio.NewWriter(w)
	b := []byte{tagListing, Version, statusOK}
	b = binary.AppendUvarint(b, uint64(len(files)))
	for _, f := range files {
		if err := checkPath(f.Path, false); err != nil {
			return err
		}
		if f.Size < 0 || f.Size > MaxSize {
			return fmt.Errorf("%w: size %d", ErrMalformed, f.Size)
		}
		b = binary.AppendUvarint(b, uint64(len(f.Path)))
		b = append(b, f.Path...)
		b = binary.AppendUvarint(b, uint64(f.Size))
		b = append(b, f.Hash[:]...)
		if len(b) >= 32<<10 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteRefusal writes a listing that refuses the request, with a reason
// for people (cut to 512 bytes).
func WriteRefusal(w io.Writer, reason string) error {
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	b := []byte{tagListing, Version, statusRefused}
	b = binary.AppendUvarint(b, uint64(len(reason)))
	_, err := w.Write(append(b, reason...))
	return err
}

// ReadListing reads one listing from r: its files, or an error wrapping
// ErrRefused with the peer's reason.
func ReadListing(r io.Reader) ([]Entry, error) {
	br := bufio.NewReader(&capReader{r: r, left: MaxListingBytes})
	if err := readHeader(br, tagListing); err != nil {
		return nil, err
	}
	status, err := br.ReadByte()
	if err != nil {
		return nil, unexpected(err)
	}
	switch status {
	case statusOK:
	case statusRefused:
		reason, err := readString(br, maxReason)
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s", ErrRefused, reason)
	default:
		return nil, fmt.Errorf("%w: status %d", ErrMalformed, status)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, unexpected(err)
	}
	if n > MaxEntries {
		return nil, fmt.Errorf("%w: %d files", ErrTooLarge, n)
	}
	files := make([]Entry, 0, min(n, 4096))
	for range n {
		var e Entry
		if e.Path, err = readString(br, MaxPathLen); err != nil {
			return nil, err
		}
		if err := checkPath(e.Path, false); err != nil {
			return nil, err
		}
		size, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, unexpected(err)
		}
		if size > MaxSize {
			return nil, fmt.Errorf("%w: size %d", ErrTooLarge, size)
		}
		e.Size = int64(size)
		if _, err := io.ReadFull(br, e.Hash[:]); err != nil {
			return nil, unexpected(err)
		}
		files = append(files, e)
	}
	return files, nil
}

func readHeader(br *bufio.Reader, tag byte) error {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return unexpected(err)
	}
	if h[0] != tag {
		return fmt.Errorf("%w: tag %#x, want %#x", ErrMalformed, h[0], tag)
	}
	if h[1] != Version {
		return fmt.Errorf("%w: version %d, this node speaks %d", ErrMalformed, h[1], Version)
	}
	return nil
}

func readString(br *bufio.Reader, limit int) (string, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return "", unexpected(err)
	}
	if n > uint64(limit) {
		return "", fmt.Errorf("%w: %d-byte string", ErrTooLarge, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return "", unexpected(err)
	}
	return string(b), nil
}

// checkPath checks what the wire promises of a path: valid UTF-8, no NUL,
// at most MaxPathLen bytes, not empty unless empty is allowed. Whether it
// is safe to create on disk is names.RelPath's business.
func checkPath(p string, empty bool) error {
	switch {
	case p == "" && !empty:
		return fmt.Errorf("%w: empty path", ErrMalformed)
	case len(p) > MaxPathLen:
		return fmt.Errorf("%w: %d-byte path", ErrTooLarge, len(p))
	case !utf8.ValidString(p):
		return fmt.Errorf("%w: path is not UTF-8", ErrMalformed)
	}
	for i := 0; i < len(p); i++ {
		if p[i] == 0 {
			return fmt.Errorf("%w: NUL in path", ErrMalformed)
		}
	}
	return nil
}

// unexpected turns an early end of input into ErrMalformed.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: cut short", ErrMalformed)
	}
	return err
}

// capReader reads at most left bytes, then fails with ErrTooLarge.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("%w: listing over %d bytes", ErrTooLarge, int64(MaxListingBytes))
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
