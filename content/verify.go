package content

import (
	"encoding/binary"
	"math/bits"

	"lukechampine.com/blake3/bao"
	"lukechampine.com/blake3/guts"
)

// VerifyChunk reports whether data is chunk number index of the file whose
// content hash is root and whose Bao outboard tree is outboard. data must be
// the whole chunk (ChunkSize bytes, or the remainder for the last chunk).
func VerifyChunk(root Hash, outboard []byte, index int, data []byte) bool {
	if index < 0 || len(data) > ChunkSize {
		return false
	}
	if len(outboard) == 8 { // a file of one chunk: its hash is the chunk's BLAKE3
		return index == 0 && binary.LittleEndian.Uint64(outboard) == uint64(len(data)) && Sum(data) == root
	}
	return bao.VerifyChunk(data, outboard, BaoGroup, uint64(index)*ChunkSize, root)
}

// VerifyOutboard reports whether outboard is the Bao tree of a file of the
// given size whose content hash is root. Only the tree's shape and interior
// are checked here; each chunk is checked by VerifyChunk as it arrives.
func VerifyOutboard(root Hash, outboard []byte, size int64) bool {
	if size < 0 || len(outboard) != OutboardSize(size) || binary.LittleEndian.Uint64(outboard) != uint64(size) {
		return false
	}
	const groupSize = uint64(ChunkSize)
	tree := outboard[8:]
	var walk func(cv [8]uint32, n uint64, flags uint32) bool
	walk = func(cv [8]uint32, n uint64, flags uint32) bool {
		if n <= groupSize {
			return true // a leaf: checked against its chunk by VerifyChunk
		}
		l, r := bytesToCV(tree[:32]), bytesToCV(tree[32:64])
		tree = tree[64:]
		if guts.ChainingValue(guts.ParentNode(l, r, &guts.IV, flags)) != cv {
			return false
		}
		mid := uint64(1) << (bits.Len64(n-1) - 1)
		return walk(l, mid, 0) && walk(r, n-mid, 0)
	}
	return walk(bytesToCV(root[:]), uint64(size), guts.FlagRoot)
}

// bytesToCV reads a 32-byte chaining value as BLAKE3 words.
func bytesToCV(b []byte) (cv [8]uint32) {
	for i := range cv {
		cv[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return cv
}
