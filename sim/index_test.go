package sim

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/query/matchtest"
	"github.com/servent-p2p/servent/ultrapeer"
)

// hitNames lists the file names of hits, sorted.
func hitNames(hits []query.QueryHit) []string {
	var out []string
	for _, h := range hits {
		for _, r := range h.Results {
			out = append(out, h.Node+":"+r.Name)
		}
	}
	slices.Sort(out)
	return out
}

// TestFileIndexAgreesWithRegistry: the simulator's flood nodes answer from
// fileIndex (query.Query.Matches over a file list); the daemon, for its own
// shares and its leaves', and the simulator's ultrapeers answer from
// ultrapeer.Index over a Registry. On random names and random queries
// (words, prefixes, a content hash, both) the two answer with the same
// files, as the same keywords (content.Keywords) reach both.
func TestFileIndexAgreesWithRegistry(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 17))
	word := func() string { return matchtest.RandomWord(rng) }
	var files []simFile
	for _, name := range matchtest.RandomNames(rng, 200) {
		f := simFile{name: name, size: uint64(len(name)), keywords: content.Keywords(name)}
		f.hash[0], f.hash[1] = byte(len(files)), byte(len(files)>>8)
		files = append(files, f)
	}
	own := &fileIndex{owner: "1"}
	u := ultrapeer.Update{Full: true, ToVersion: 1}
	for i := range files {
		own.files = append(own.files, &files[i])
		u.Add = append(u.Add, ultrapeer.Entry{Path: files[i].name, Size: int64(files[i].size), Hash: files[i].hash, Keywords: files[i].keywords})
	}
	reg := ultrapeer.NewRegistry(0)
	if _, err := reg.ApplySelf(owner("1"), u); err != nil {
		t.Fatal(err)
	}
	daemonIndex := ultrapeer.Index{Registry: reg}

	found := 0
	for i := range 600 {
		var q query.Query
		switch i % 4 {
		case 0, 1: // words, sometimes two
			q.Criteria = word()
			if i%8 == 1 {
				q.Criteria += " " + word()
			}
		case 2: // a prefix of a word
			rs := []rune(word())
			q.Criteria = string(rs[:1+rng.IntN(len(rs))])
		case 3: // a content hash, alone or with a word that may not match
			q.Hash = files[rng.IntN(len(files))].hash
			if rng.IntN(2) == 0 {
				q.Criteria = word()
			}
		}
		want, got := hitNames(own.Match(&q)), hitNames(daemonIndex.Match(&q))
		if !slices.Equal(got, want) {
			t.Fatalf("query %q hash %x: registry answers %q, fileIndex %q", q.Criteria, q.Hash[:2], got, want)
		}
		if len(want) > 0 {
			found++
		}
	}
	if found < 300 {
		t.Fatalf("only %d of 600 random queries found something: the test checks too little", found)
	}
}
