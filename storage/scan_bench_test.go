package storage

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// benchFiles is the size of the tree BenchmarkRescanUnchanged rescans:
// $SERVENT_BENCH_FILES, default 20,000. Creating files costs about 1 ms
// each on the reference machine's disk, so the tree is built once, outside
// the timed loop.
func benchFiles(b *testing.B) int {
	b.Helper()
	s := os.Getenv("SERVENT_BENCH_FILES")
	if s == "" {
		return 20000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("SERVENT_BENCH_FILES=%q: want a positive integer", s)
	}
	return n
}

// BenchmarkRescanUnchanged measures a rescan of benchFiles unchanged small
// files: one walk, one lstat per file and one catalog read, no hashing. It
// reports ns/file; ns/op is the whole rescan.
func BenchmarkRescanUnchanged(b *testing.B) {
	n := benchFiles(b)
	share := b.TempDir() // the outer function runs once; b.Run below repeats
	writeTree(b, share, n)
	s, err := Open(b.TempDir(), Options{Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	opts := ScanOptions{Logger: quietLogger()}
	if st, err := s.Scan(context.Background(), []string{share}, opts); err != nil || st.Hashed != n {
		b.Fatalf("first scan: %+v %v", st, err)
	}
	b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
		for b.Loop() {
			st, err := s.Scan(context.Background(), []string{share}, opts)
			if err != nil || st.Unchanged != n || st.Hashed != 0 {
				b.Fatalf("rescan: %+v %v", st, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/file")
	})
}
