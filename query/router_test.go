package query

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/role"
)

// shares is a test Index: one node's files, matched with the package rule.
type shares struct {
	node  string
	files []string
}

func fileHash(name string) content.Hash {
	var h content.Hash
	copy(h[:], name)
	h[31] = 1
	return h
}

func (s *shares) Match(q *Query) []QueryHit {
	words := q.Words()
	var res []FileResult
	for i, f := range s.files {
		if q.Matches(words, content.Keywords(f), fileHash(f)) {
			res = append(res, FileResult{Index: uint32(i), Size: 10, Name: f, Hash: fileHash(f)})
		}
	}
	if len(res) == 0 {
		return nil
	}
	return []QueryHit{{Node: s.node, Results: res}}
}

// testNet delivers Outbounds between routers in FIFO order, recording who
// received which query.
type testNet struct {
	t         *testing.T
	routers   map[PeerID]*Router
	now       time.Time
	queries   map[PeerID][]*Descriptor // queries each node received
	delivered map[PeerID][]*Descriptor
	answered  map[PeerID][]Answered // Result.Answered per node
	messages  int
}

func newTestNet(t *testing.T) *testNet {
	return &testNet{t: t, routers: map[PeerID]*Router{}, now: time.Unix(1000, 0),
		queries: map[PeerID][]*Descriptor{}, delivered: map[PeerID][]*Descriptor{}, answered: map[PeerID][]Answered{}}
}

func (n *testNet) add(id PeerID, mode Mode, files ...string) *Router {
	cfg := DefaultConfig(id)
	cfg.Mode = mode
	r := NewRouter(cfg, &shares{node: string(id), files: files})
	n.routers[id] = r
	return r
}

type hop struct {
	from PeerID
	out  Outbound
}

// run delivers res (produced by node from) and everything it causes.
func (n *testNet) run(from PeerID, res Result) {
	n.t.Helper()
	n.delivered[from] = append(n.delivered[from], res.Delivered...)
	n.answered[from] = append(n.answered[from], res.Answered...)
	queue := make([]hop, 0, len(res.Send))
	for _, o := range res.Send {
		queue = append(queue, hop{from, o})
	}
	for i := 0; i < len(queue); i++ {
		if i > 10000 {
			n.t.Fatal("message storm")
		}
		h := queue[i]
		n.messages++
		r, ok := n.routers[h.out.To]
		if !ok {
			n.t.Fatalf("send to unknown %s", h.out.To)
		}
		if h.out.D.Type == TypeQuery {
			n.queries[h.out.To] = append(n.queries[h.out.To], h.out.D)
		}
		res := r.Handle(n.now, h.from, h.out.D)
		n.delivered[h.out.To] = append(n.delivered[h.out.To], res.Delivered...)
		n.answered[h.out.To] = append(n.answered[h.out.To], res.Answered...)
		for _, o := range res.Send {
			queue = append(queue, hop{h.out.To, o})
		}
	}
}

func (n *testNet) search(from PeerID, words string, ttl uint8) GUID {
	n.t.Helper()
	g := GUID{byte(len(n.delivered[from])), 0xAA}
	g[8] = 0xFF
	n.run(from, n.routers[from].Originate(n.now, g, &Query{Criteria: words}, ttl))
	return g
}

func hitNodes(ds []*Descriptor) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Hit.Node)
	}
	slices.Sort(out)
	return out
}

func TestFloodLine(t *testing.T) {
	n := newTestNet(t)
	ids := []PeerID{"a", "b", "c", "d"}
	for _, id := range ids {
		n.add(id, Flood, "song "+string(id)+".mp3")
	}
	for i, id := range ids {
		var nb []PeerID
		if i > 0 {
			nb = append(nb, ids[i-1])
		}
		if i < len(ids)-1 {
			nb = append(nb, ids[i+1])
		}
		n.routers[id].SetTopology(role.Ultrapeer, nb, nil, nil)
	}
	n.search("a", "song", 2)
	if got := hitNodes(n.delivered["a"]); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("hits from %v, want a b c (TTL 2 horizon)", got)
	}
	if len(n.queries["d"]) != 0 {
		t.Errorf("d received a query beyond the TTL")
	}
	if q := n.queries["c"][0]; q.TTL != 1 || q.Hops != 1 {
		t.Errorf("c got TTL %d hops %d, want 1 1", q.TTL, q.Hops)
	}
	for _, d := range n.delivered["a"] {
		if d.Hit.Node == "c" && (d.Hops != 1 || d.TTL != 1) {
			t.Errorf("hit from c arrived with TTL %d hops %d", d.TTL, d.Hops)
		}
	}
	cb := n.routers["b"].Counters()
	if cb.Query.Received != 1 || cb.Query.Forwarded != 1 || cb.QueryHit.Forwarded != 1 || cb.QueryHit.Sent != 2 {
		t.Errorf("b counters %+v", cb)
	}
}

func TestFloodDiamond(t *testing.T) {
	n := newTestNet(t)
	for _, id := range []PeerID{"a", "b", "c", "d"} {
		n.add(id, Flood, "doc "+string(id)+".txt")
	}
	n.routers["a"].SetTopology(role.Ultrapeer, []PeerID{"b", "c"}, nil, nil)
	n.routers["b"].SetTopology(role.Ultrapeer, []PeerID{"a", "d"}, nil, nil)
	n.routers["c"].SetTopology(role.Ultrapeer, []PeerID{"a", "d"}, nil, nil)
	n.routers["d"].SetTopology(role.Ultrapeer, []PeerID{"b", "c"}, nil, nil)
	n.search("a", "DOC", 4)
	if got := hitNodes(n.delivered["a"]); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("hits from %v, want each node once", got)
	}
	if got := n.routers["d"].Counters().Query; got.Received != 2 || got.Dropped.Duplicate != 1 {
		t.Errorf("d query counters %+v, want 2 received, 1 duplicate", got)
	}
	// d forwards b's copy to c, which already has it; nobody sends back to its sender.
	if got := n.routers["c"].Counters().Query.Dropped.Duplicate; got != 1 {
		t.Errorf("c duplicates %d, want 1", got)
	}
	if got := n.routers["a"].Counters().Query.Received; got != 0 {
		t.Errorf("a received its own query %d times", got)
	}
}

// smartNet: ultrapeers u1-u2-u3 in a line; u1 has leaves l1 l2, u2 has l3, u3 has l4.
func smartNet(t *testing.T) *testNet {
	n := newTestNet(t)
	files := map[PeerID][]string{
		"l1": {"l1/own.txt"}, "l2": {"l2/holst planets.flac"}, "l3": {"l3/planets map.png"}, "l4": {"l4/planets.txt"},
		"u1": {"u1/notes.txt"}, "u2": {"u2/planets.pdf"}, "u3": nil,
	}
	leavesOf := map[PeerID][]PeerID{"u1": {"l1", "l2"}, "u2": {"l3"}, "u3": {"l4"}}
	mesh := map[PeerID][]PeerID{"u1": {"u2"}, "u2": {"u1", "u3"}, "u3": {"u2"}}
	for u, ls := range leavesOf {
		// An ultrapeer's index covers itself and its leaves.
		all := slices.Clone(files[u])
		for _, l := range ls {
			all = append(all, files[l]...)
		}
		n.add(u, Smart, all...).SetTopology(role.Ultrapeer, mesh[u], nil, ls)
		for _, l := range ls {
			n.add(l, Smart, files[l]...).SetTopology(role.Leaf, nil, []PeerID{u}, nil)
		}
	}
	return n
}

func TestSmartLeavesNeverSeeForeignQueries(t *testing.T) {
	n := smartNet(t)
	n.search("l1", "planets", 7)
	var names []string
	for _, d := range n.delivered["l1"] {
		for _, r := range d.Hit.Results {
			names = append(names, r.Name)
		}
	}
	slices.Sort(names)
	want := []string{"l2/holst planets.flac", "l3/planets map.png", "l4/planets.txt", "u2/planets.pdf"}
	if !slices.Equal(names, want) {
		t.Fatalf("l1 found %v, want %v", names, want)
	}
	for _, l := range []PeerID{"l2", "l3", "l4"} {
		if len(n.queries[l]) != 0 || n.routers[l].Counters().Query.Received != 0 {
			t.Errorf("leaf %s received a query", l)
		}
	}
	if c := n.routers["l1"].Counters(); c.Query.Sent != 1 || c.QueryHit.Delivered != 3 {
		t.Errorf("l1 counters %+v", c)
	}
	// A query pushed at a leaf anyway is dropped as unexpected.
	res := n.routers["l2"].Handle(n.now, "u1", &Descriptor{Header: Header{GUID: GUID{9}, Type: TypeQuery, TTL: 3}, Query: &Query{Criteria: "x"}})
	if res.Drop != DropUnexpected || len(res.Send) != 0 {
		t.Errorf("leaf handled a query: %+v", res)
	}
}

func TestSmartLeafWithoutUltrapeers(t *testing.T) {
	r := NewRouter(DefaultConfig("l"), nil)
	res := r.Originate(time.Unix(0, 0), GUID{1}, &Query{Criteria: "x"}, 0)
	if res.Drop != DropNoRoute || r.Counters().Query.Dropped.NoRoute != 1 {
		t.Errorf("got %+v", res)
	}
}

func TestLastHopQRP(t *testing.T) {
	for _, qrp := range []bool{true, false} {
		t.Run(fmt.Sprint("qrp=", qrp), func(t *testing.T) {
			cfg := DefaultConfig("u1")
			cfg.LastHopQRP = qrp
			r := NewRouter(cfg, nil)
			r.SetTopology(role.Ultrapeer, []PeerID{"u2", "u3", "u4"}, nil, nil)
			has, lacks := NewTable(DefaultTableBits), NewTable(DefaultTableBits)
			has.AddFile("x/Apple Pie.txt", content.Hash{1})
			lacks.AddFile("x/pear.txt", content.Hash{2})
			r.SetNeighbourTable("u2", has)
			r.SetNeighbourTable("u3", lacks) // u4 sent no table: always gets it
			to := func(res Result) []PeerID {
				var p []PeerID
				for _, o := range res.Send {
					p = append(p, o.To)
				}
				return p
			}
			last := to(r.Originate(time.Unix(0, 0), GUID{1}, &Query{Criteria: "apple pie"}, 1))
			urn := to(r.Originate(time.Unix(0, 0), GUID{2}, &Query{Hash: content.Hash{1}}, 1))
			notLast := to(r.Originate(time.Unix(0, 0), GUID{3}, &Query{Criteria: "apple"}, 2))
			all := []PeerID{"u2", "u3", "u4"}
			want := all
			if qrp {
				want = []PeerID{"u2", "u4"}
			}
			if !slices.Equal(last, want) || !slices.Equal(urn, want) {
				t.Errorf("last hop to %v (urn %v), want %v", last, urn, want)
			}
			if !slices.Equal(notLast, all) {
				t.Errorf("TTL 2 to %v, want all", notLast)
			}
		})
	}
}

func TestHandleDrops(t *testing.T) {
	now := time.Unix(50, 0)
	q := func(g byte, ttl, hops uint8) *Descriptor {
		return &Descriptor{Header: Header{GUID: GUID{g}, Type: TypeQuery, TTL: ttl, Hops: hops}, Query: &Query{Criteria: "x"}}
	}
	hit := &Descriptor{Header: Header{GUID: GUID{77}, Type: TypeQueryHit, TTL: 3}, Hit: &QueryHit{}}
	cases := []struct {
		name string
		from PeerID
		d    *Descriptor
		want DropReason
	}{
		{"ttl+hops over max", "n1", q(1, 5, 3), DropTTL},
		{"ttl 0", "n1", q(2, 0, 1), DropTTL},
		{"non member", "stranger", q(3, 2, 0), DropNonMember},
		{"unknown guid hit", "n1", hit, DropUnknownGUID},
		{"nil", "n1", nil, DropMalformed},
		{"payload mismatch", "n1", &Descriptor{Header: Header{Type: TypeQuery, TTL: 1}, Hit: &QueryHit{}}, DropMalformed},
		{"valid", "n1", q(4, 4, 3), DropNone},
		{"duplicate", "n2", q(4, 4, 3), DropDuplicate},
	}
	cfg := DefaultConfig("me")
	cfg.Mode = Flood
	r := NewRouter(cfg, nil)
	r.SetTopology(role.Ultrapeer, []PeerID{"n1", "n2"}, nil, nil)
	r.SetMember(func(p PeerID) bool { return p != "stranger" })
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.Handle(now, c.from, c.d).Drop; got != c.want {
				t.Fatalf("drop %v, want %v", got, c.want)
			}
		})
	}
	c := r.Counters()
	want := Drops{Duplicate: 1, TTL: 2, NonMember: 1}
	if c.Query.Dropped != want || c.QueryHit.Dropped.UnknownGUID != 1 || c.Malformed != 2 {
		t.Errorf("counters %+v", c)
	}
	r.CountMalformed()
	if r.Counters().Malformed != 3 {
		t.Error("CountMalformed")
	}
}

func TestHitReversePathRules(t *testing.T) {
	now := time.Unix(50, 0)
	cfg := DefaultConfig("me")
	cfg.Mode = Flood
	r := NewRouter(cfg, nil)
	members := map[PeerID]bool{"up": true, "down": true}
	r.SetMember(func(p PeerID) bool { return members[p] })
	r.SetTopology(role.Ultrapeer, []PeerID{"up", "down"}, nil, nil)
	r.Handle(now, "up", &Descriptor{Header: Header{GUID: GUID{5}, Type: TypeQuery, TTL: 3}, Query: &Query{Criteria: "x"}})
	hit := func(ttl uint8) *Descriptor {
		return &Descriptor{Header: Header{GUID: GUID{5}, Type: TypeQueryHit, TTL: ttl}, Hit: &QueryHit{}}
	}
	res := r.Handle(now, "down", hit(2))
	if len(res.Send) != 1 || res.Send[0].To != "up" || res.Send[0].D.TTL != 1 || res.Send[0].D.Hops != 1 {
		t.Fatalf("hit not routed back to up: %+v", res)
	}
	if res := r.Handle(now, "down", hit(1)); res.Drop != DropTTL {
		t.Errorf("exhausted hit: %v", res.Drop)
	}
	members["up"] = false
	if res := r.Handle(now, "down", hit(2)); res.Drop != DropNonMember {
		t.Errorf("hit toward departed member: %v", res.Drop)
	}
	// After the cache age the GUID is forgotten.
	if res := r.Handle(now.Add(3*time.Minute), "down", hit(2)); res.Drop != DropUnknownGUID {
		t.Errorf("stale hit: %v", res.Drop)
	}
}

func TestRateLimit(t *testing.T) {
	cfg := DefaultConfig("me")
	cfg.Mode = Flood
	cfg.QueryRate, cfg.QueryBurst = 2, 3
	r := NewRouter(cfg, nil)
	now := time.Unix(10, 0)
	send := func(g byte, at time.Time) DropReason {
		return r.Handle(at, "p", &Descriptor{Header: Header{GUID: GUID{g}, Type: TypeQuery, TTL: 2}, Query: &Query{Criteria: "x"}}).Drop
	}
	var got []DropReason
	for i := range 5 {
		got = append(got, send(byte(i), now))
	}
	want := []DropReason{DropNone, DropNone, DropNone, DropRateLimited, DropRateLimited}
	if !slices.Equal(got, want) {
		t.Fatalf("burst: %v", got)
	}
	if send(10, now.Add(500*time.Millisecond)) != DropNone || send(11, now.Add(500*time.Millisecond)) != DropRateLimited {
		t.Error("refill at 2/s")
	}
	if r.Counters().Query.Dropped.RateLimited != 3 {
		t.Errorf("counters %+v", r.Counters().Query.Dropped)
	}
	r.SetTopology(role.Ultrapeer, nil, nil, nil)
	if len(r.buckets) != 0 {
		t.Error("buckets of departed peers kept")
	}
}

// TestRateLimitOriginAndLink: a leaf's queries, and a neighbour's own, are
// limited per origin; what a neighbour forwards for others is limited per
// link, at the network's expected load, and counted apart.
func TestRateLimitOriginAndLink(t *testing.T) {
	cfg := DefaultConfig("me")
	cfg.QueryRate, cfg.QueryBurst = 2, 3
	r := NewRouter(cfg, nil)
	r.SetTopology(role.Ultrapeer, []PeerID{"n1", "n2"}, nil, []PeerID{"leaf"})
	r.SetLinkLimit(100, 400)
	now := time.Unix(10, 0)
	g := byte(0)
	send := func(from PeerID, hops uint8, n int) []DropReason {
		var out []DropReason
		for range n {
			g++
			d := &Descriptor{Header: Header{GUID: GUID{g, 1}, Type: TypeQuery, TTL: 3, Hops: hops}, Query: &Query{Criteria: "x"}}
			out = append(out, r.Handle(now, from, d).Drop)
		}
		return out
	}
	count := func(got []DropReason, reason DropReason) int {
		n := 0
		for _, d := range got {
			if d == reason {
				n++
			}
		}
		return n
	}
	if got := send("n1", 2, 200); count(got, DropNone) != 200 {
		t.Fatalf("forwarded queries within the link limit dropped: %v", got)
	}
	if got := send("leaf", 0, 5); count(got, DropNone) != 3 || count(got, DropRateLimited) != 2 {
		t.Fatalf("leaf over its origin limit: %v", got)
	}
	if got := send("leaf", 4, 1); got[0] != DropRateLimited {
		t.Fatalf("a leaf claiming to forward escapes its origin limit: %v", got)
	}
	if got := send("n1", 0, 5); count(got, DropNone) != 3 || count(got, DropRateLimited) != 2 {
		t.Fatalf("neighbour's own queries over the origin limit: %v", got)
	}
	r.SetLinkLimit(10, 10)
	if got := send("n2", 1, 11); count(got, DropNone) != 10 || got[10] != DropLinkRateLimited {
		t.Fatalf("link over its limit: %v", got)
	}
	d := r.Counters().Query.Dropped
	if d.RateLimited != 5 || d.LinkRateLimited != 1 {
		t.Fatalf("drops %+v, want 5 rate_limited and 1 link_rate_limited", d)
	}
	r.SetTopology(role.Ultrapeer, []PeerID{"n1"}, nil, nil)
	if _, ok := r.links["n2"]; ok || len(r.buckets) != 1 {
		t.Fatalf("state of departed peers kept: links %v, buckets %v", r.links, r.buckets)
	}
}

func TestDupCacheBounds(t *testing.T) {
	c := newDupCache(100, time.Minute)
	base := time.Unix(0, 0).UnixNano()
	for i := range 1000 {
		c.insert(GUID{byte(i), byte(i >> 8)}, seenEntry{at: base + int64(i)})
		if c.len() > 100 {
			t.Fatalf("%d entries after %d inserts", c.len(), i+1)
		}
	}
	i := 999
	last := GUID{byte(i), byte(i >> 8)}
	if _, ok := c.lookup(last, base+1000); !ok {
		t.Error("newest entry lost")
	}
	if _, ok := c.lookup(GUID{0, 0}, base+1000); ok {
		t.Error("oldest entry kept beyond the size bound")
	}
	if _, ok := c.lookup(last, base+int64(time.Minute)+1000); ok {
		t.Error("entry kept beyond the age bound")
	}
	c.insert(GUID{1}, seenEntry{at: base + int64(3*time.Minute)})
	if c.len() != 1 {
		t.Errorf("idle cache not emptied: %d", c.len())
	}
}

func TestMatchesFile(t *testing.T) {
	file := content.Keywords("Music/Holst - The Planets (1916).FLAC")
	cases := []struct {
		query string
		want  bool
	}{
		{"planets", true}, {"PLANETS holst", true}, {"planet", true}, {"pla", true}, {"pl", false},
		{"planetsx", false}, {"planets mars", false}, {"1916 flac", true}, {"", false}, {"-- !!", false},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			if got := MatchesFile(content.QueryWords(c.query), file); got != c.want {
				t.Errorf("MatchesFile(%q) = %v, want %v", c.query, got, c.want)
			}
		})
	}
}

func TestRouterFootprint(t *testing.T) {
	const n = 2000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rs := make([]*Router, n)
	for i := range rs {
		rs[i] = NewRouter(DefaultConfig(PeerID(fmt.Sprint("node-", i))), nil)
		rs[i].SetTopology(role.Ultrapeer, []PeerID{"a", "b", "c", "d"}, nil, nil)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("idle router: %.0f bytes", per)
	if per > 4096 {
		t.Errorf("idle router uses %.0f bytes", per)
	}
	runtime.KeepAlive(rs)
}

func TestForwardAllocs(t *testing.T) {
	cfg := DefaultConfig("me")
	cfg.Mode = Flood
	cfg.QueryRate = 0
	r := NewRouter(cfg, nil)
	r.SetTopology(role.Ultrapeer, []PeerID{"a", "b", "c", "d"}, nil, nil)
	q := &Query{Criteria: "x"}
	now := time.Unix(1, 0)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		i++
		r.Handle(now, "a", &Descriptor{Header: Header{GUID: GUID{byte(i), byte(i >> 8)}, Type: TypeQuery, TTL: 3}, Query: q})
	})
	t.Logf("allocs per forwarded query: %.1f", allocs)
	if allocs > 3 {
		t.Errorf("%.1f allocations per forwarded query", allocs)
	}
}

func TestQueryMatches(t *testing.T) {
	h, other := content.Hash{1}, content.Hash{2}
	kw := content.Keywords("maps/city water.pdf")
	tests := []struct {
		name string
		q    Query
		hash content.Hash
		want bool
	}{
		{"words", Query{Criteria: "water city"}, other, true},
		{"word missing", Query{Criteria: "water fire"}, h, false},
		{"hash only", Query{Hash: h}, h, true},
		{"hash only, other file", Query{Hash: h}, other, false},
		{"hash and words", Query{Criteria: "water", Hash: h}, h, true},
		{"hash and wrong words", Query{Criteria: "fire", Hash: h}, h, false},
		{"words and wrong hash", Query{Criteria: "water", Hash: h}, other, false},
		{"nothing", Query{Criteria: "--"}, h, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.Matches(tt.q.Words(), kw, tt.hash); got != tt.want {
				t.Fatalf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}
