package transfer

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/servent-p2p/servent/content"
)

// Swarming headers (Gnutella's partial file sharing and download mesh,
// with peers named by key instead of by address; docs/PROTOCOL.md §14).
const (
	// HeaderAvailableRanges is sent by a node that holds only part of a
	// file, with every answer about it: the byte ranges it has verified
	// and serves, as Gnutella's PFSP did:
	//
	//	X-Available-Ranges: bytes 0-1048575,3145728-4194303
	//
	// A node that holds the whole file does not send it.
	HeaderAvailableRanges = "X-Available-Ranges"
	// HeaderAlt carries alternate locations by node key (the hex SHA-256
	// of the TLS SubjectPublicKeyInfo): in a request, the downloader's
	// own key when it serves what it has verified; in an answer, other
	// nodes known to hold (part of) the file.
	HeaderAlt = "X-Alt"
)

// Bounds on the swarming headers.
const (
	// maxRanges caps the ranges in one X-Available-Ranges: a longer
	// list is cut (a subset of what is held is still true).
	maxRanges = 512
	// maxAlts caps the keys in one X-Alt.
	maxAlts = 16
)

// Key is a node's key fingerprint: the SHA-256 of its TLS
// SubjectPublicKeyInfo (see KeyFingerprint).
type Key = [32]byte

// formatRanges writes the chunks set in have as merged byte ranges of a
// file of size bytes, at most maxRanges of them.
func formatRanges(have []byte, size int64) string {
	var b strings.Builder
	b.WriteString("bytes ")
	n, count := content.NumChunks(size), 0
	for i := 0; i < n && count < maxRanges; i++ {
		if !bitSet(have, i) {
			continue
		}
		j := i
		for j+1 < n && bitSet(have, j+1) {
			j++
		}
		if count > 0 {
			b.WriteByte(',')
		}
		end := min(int64(j+1)*content.ChunkSize, size) - 1
		fmt.Fprintf(&b, "%d-%d", int64(i)*content.ChunkSize, max(end, 0))
		count++
		i = j
	}
	return b.String()
}

// parseRanges reads an X-Available-Ranges value for a file of size bytes
// into a chunk bitmap: a chunk is set when the ranges cover all of it.
// Ranges may be in any order and overlap; unaligned ones only count for
// the chunks they cover whole.
func parseRanges(v string, size int64) ([]byte, error) {
	n := content.NumChunks(size)
	have := make([]byte, (n+7)/8)
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes")
	if !ok {
		return nil, fmt.Errorf("%s %q: no \"bytes\" unit", HeaderAvailableRanges, v)
	}
	rest = strings.TrimLeft(rest, " =")
	if rest == "" {
		return have, nil
	}
	parts := strings.Split(rest, ",")
	if len(parts) > 4*maxRanges {
		return nil, fmt.Errorf("%s: %d ranges, at most %d", HeaderAvailableRanges, len(parts), 4*maxRanges)
	}
	for _, part := range parts {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		first, err1 := strconv.ParseInt(a, 10, 64)
		last, err2 := strconv.ParseInt(b, 10, 64)
		if !ok || err1 != nil || err2 != nil || first < 0 || last < first || last >= size {
			return nil, fmt.Errorf("%s: bad range %q for %d bytes", HeaderAvailableRanges, part, size)
		}
		for c := (first + content.ChunkSize - 1) / content.ChunkSize; c < int64(n); c++ {
			end := min((c+1)*content.ChunkSize, size) - 1
			if end > last {
				break
			}
			setBit(have, int(c))
		}
	}
	return have, nil
}

// formatAlts writes keys as an X-Alt value.
func formatAlts(keys []Key) string {
	parts := make([]string, 0, len(keys))
	for _, k := range keys[:min(len(keys), maxAlts)] {
		parts = append(parts, hex.EncodeToString(k[:]))
	}
	return strings.Join(parts, ",")
}

// parseAlts reads an X-Alt value: at most maxAlts keys are taken, and
// anything that is not a key is skipped.
func parseAlts(v string) []Key {
	var keys []Key
	for part := range strings.SplitSeq(v, ",") {
		if len(keys) == maxAlts {
			break
		}
		b, err := hex.DecodeString(strings.TrimSpace(part))
		if err != nil || len(b) != len(Key{}) {
			continue
		}
		keys = append(keys, Key(b))
	}
	return keys
}

// singleRange parses a Range header naming one byte range of a file of
// size bytes ("bytes=a-b" or "bytes=a-"): ok is false for anything else.
func singleRange(v string, size int64) (off, n int64, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	first, err := strconv.ParseInt(a, 10, 64)
	if !found || err != nil || first < 0 || first >= size {
		return 0, 0, false
	}
	last := size - 1
	if b != "" {
		if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
			return 0, 0, false
		}
		last = min(last, size-1)
	}
	return first, last - first + 1, true
}
