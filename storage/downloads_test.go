package storage

import (
	"bytes"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/servent-p2p/servent/content"
)

func TestDownloadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	d := Download{
		Hash: content.Hash{1, 2, 3}, Size: 10*content.ChunkSize + 5, Name: "Zürich.pdf", OutDir: "/tmp/out",
		PartPath: "/tmp/out/.Zürich.pdf.part", Outboard: []byte{9, 8, 7}, Started: 1700000000000000000,
	}
	if err := s.PutDownload(d); err != nil {
		t.Fatal(err)
	}
	// Concurrent verifiers of one download never conflict.
	var wg sync.WaitGroup
	for _, c := range []int{0, 3, 10, 7} {
		wg.Go(func() {
			if err := s.MarkVerified(d.Hash, c); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.MarkVerified(d.Hash, 11); !errors.Is(err, ErrChunkRange) {
		t.Fatalf("chunk 11 of 11: %v", err)
	}
	if err := s.MarkVerified(content.Hash{7}, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown download: %v", err)
	}
	s.Close()

	s = openTest(t, dir)
	got, err := s.GetDownload(d.Hash)
	if err != nil {
		t.Fatal(err)
	}
	wantBits := []byte{0b1000_1001, 0b0000_0100}
	if !bytes.Equal(got.Verified, wantBits) || got.VerifiedChunks() != 4 || got.Complete() {
		t.Fatalf("bitmap %08b (%d verified)", got.Verified, got.VerifiedChunks())
	}
	got.Verified, d.Verified = nil, nil
	if !reflect.DeepEqual(got, d) {
		t.Fatalf("got %+v, want %+v", got, d)
	}

	other := Download{Hash: content.Hash{0}, Size: 0, Name: "empty"}
	if err := s.PutDownload(other); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkVerified(other.Hash, 0); err != nil {
		t.Fatal(err)
	}
	all, err := s.Downloads()
	if err != nil || len(all) != 2 || all[0].Name != "empty" || !all[0].Complete() {
		t.Fatalf("downloads %+v %v", all, err)
	}

	for range 2 { // deleting twice is fine
		if err := s.DeleteDownload(d.Hash); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetDownload(d.Hash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestPutDownloadRejectsBadRecord(t *testing.T) {
	s := openTest(t, "")
	if err := s.PutDownload(Download{Size: -1}); err == nil {
		t.Fatal("negative size accepted")
	}
}

func FuzzDecodeDownload(f *testing.F) {
	f.Add(encodeDownload(Download{Size: 5, Name: "a", OutDir: "/o", PartPath: "/o/.a", Outboard: []byte{1}, Started: 9}))
	f.Add(encodeDownload(Download{}))
	f.Add([]byte{formatV1, 1, 2, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeDownload(b)
		if err != nil {
			return
		}
		again, err := decodeDownload(encodeDownload(d))
		if err != nil || !reflect.DeepEqual(again, d) {
			t.Fatalf("re-encode of %+v: %+v %v", d, again, err)
		}
	})
}

func FuzzDecodeBitmap(f *testing.F) {
	f.Add(encodeBitmap(11, []byte{1, 2}))
	f.Add(encodeBitmap(0, nil))
	f.Add([]byte{formatV1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		chunks, bits, err := decodeBitmap(b)
		if err == nil && !bytes.Equal(encodeBitmap(chunks, bits), b) {
			t.Fatal("bitmap does not round-trip")
		}
	})
}
