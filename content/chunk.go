package content

import "lukechampine.com/blake3/bao"

// ChunkSize is the unit of verification: any ChunkSize-aligned range of a
// file can be checked on its own against the file's content hash and its
// outboard tree. It is 1 MiB, which is 2^BaoGroup BLAKE3 chunks of 1 KiB.
const ChunkSize = 1 << 20

// BaoGroup is the Bao chunk-group exponent matching ChunkSize.
const BaoGroup = 10

// NumChunks returns how many ChunkSize chunks a file of size bytes has
// (an empty file has one empty chunk).
func NumChunks(size int64) int {
	if size <= 0 {
		return 1
	}
	return int((size + ChunkSize - 1) / ChunkSize)
}

// OutboardSize returns the length of the Bao outboard tree of a file of size bytes.
func OutboardSize(size int64) int { return bao.EncodedSize(int(size), BaoGroup, true) }

// ChunkSpan returns where chunk index of a file of size bytes starts and
// how many bytes it has (ChunkSize, less for the last chunk).
func ChunkSpan(index int, size int64) (off int64, n int) {
	off = int64(index) * ChunkSize
	return off, int(max(0, min(ChunkSize, size-off)))
}
