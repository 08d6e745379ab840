package web

import (
	"io"
	"math/rand/v2"
	"net/http"
	"testing"

	"golang.org/x/time/rate"
)

// BenchmarkZipFolder compares a folder of 16 files of 4 MiB sent as one
// .zip (fetched, hashed again with its CRC-32, stored) with the same files
// sent as 16 single downloads (the baseline), both from the node's cache
// over loopback HTTP. The ratio of their ns/op is the cost of the zip.
func BenchmarkZipFolder(b *testing.B) {
	be := newTestBackend(b)
	var hashes []string
	rng := rand.NewChaCha8([32]byte{'b', 'e', 'n', 'c', 'h'})
	for i := range 16 {
		data := make([]byte, 4<<20)
		rng.Read(data)
		hashes = append(hashes, be.addFile("maps/"+string(rune('a'+i))+".bin", data, 1))
	}
	s, base := testServer(b, be, nil)
	s.searchLimit = newIPLimiter(rate.Inf, 1) // a benchmark is no flood
	c := &http.Client{}
	fetch := func(url string) int64 {
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %s, %v", url, resp.Status, err)
		}
		return n
	}
	b.Run("downloads", func(b *testing.B) {
		for b.Loop() {
			n := int64(0)
			for _, h := range hashes {
				n += fetch(base + "/dl/" + h)
			}
			b.SetBytes(n)
		}
	})
	b.Run("zip", func(b *testing.B) {
		for b.Loop() {
			b.SetBytes(fetch(base + "/zip?peer=nodea&dir=maps"))
		}
	})
}
