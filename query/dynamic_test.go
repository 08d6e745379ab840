package query

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/servent-p2p/servent/role"
)

const testHopWait = 50 * time.Millisecond

// dynUP returns an ultrapeer "u" with dynamic querying (results wanted:
// want), mesh neighbours n1..nN and leaf "l".
func dynUP(t *testing.T, want int, neighbours ...PeerID) *Router {
	t.Helper()
	cfg := DefaultConfig("u")
	cfg.Dynamic = DynamicConfig{On: true, Results: want, HopWait: testHopWait}
	r := NewRouter(cfg, nil)
	r.SetTopology(role.Ultrapeer, neighbours, nil, []PeerID{"l"})
	return r
}

func meshOf(n int) []PeerID {
	out := make([]PeerID, n)
	for i := range out {
		out[i] = PeerID("n" + string(rune('1'+i)))
	}
	return out
}

// sent returns the peers and TTLs of res's queries, in order.
func sent(res Result) (to []PeerID, ttls []uint8) {
	for _, o := range res.Send {
		if o.D.Type == TypeQuery {
			to = append(to, o.To)
			ttls = append(ttls, o.D.TTL)
		}
	}
	return to, ttls
}

func hitFrom(g GUID, node string, files ...string) *Descriptor {
	h := &QueryHit{Node: node}
	for i, f := range files {
		h.Results = append(h.Results, FileResult{Index: uint32(i), Size: 10, Name: f, Hash: fileHash(f)})
	}
	return &Descriptor{Header: Header{GUID: g, Type: TypeQueryHit, TTL: 3}, Hit: h}
}

var (
	t0      = time.Unix(5000, 0)
	dynGUID = GUID{1, 2, 3}
)

func leafQuery(ttl uint8) *Descriptor {
	return &Descriptor{Header: Header{GUID: dynGUID, Type: TypeQuery, TTL: ttl}, Query: &Query{Criteria: "song"}}
}

func TestDynamicProbeThenWidenUntilExhausted(t *testing.T) {
	r := dynUP(t, 20, meshOf(6)...)
	res := r.Handle(t0, "l", leafQuery(5))
	to, ttls := sent(res)
	if !slices.Equal(to, []PeerID{"n1", "n2", "n3"}) || !slices.Equal(ttls, []uint8{2, 2, 2}) {
		t.Fatalf("probe sent to %v with TTLs %v, want n1..n3 at TTL 2", to, ttls)
	}
	for _, o := range res.Send {
		if o.D.Hops != 1 {
			t.Errorf("probe hops %d, want 1", o.D.Hops)
		}
	}
	next, ok := r.NextTick()
	if !ok || !next.Equal(t0.Add(2*testHopWait)) {
		t.Fatalf("next step at %v (%v), want after 2 hop waits", next, ok)
	}
	// Time is passed in: early ticks do nothing.
	if res := r.Tick(next.Add(-time.Nanosecond)); len(res.Send) != 0 {
		t.Fatalf("early tick sent %d", len(res.Send))
	}
	// No result: each further step queries one neighbour at the highest
	// TTL the leaf's query allows (5 - 1 hop), then deepens the probed
	// ones to it.
	now := next
	for _, want := range []PeerID{"n4", "n5", "n6", "n1", "n2", "n3"} {
		to, ttls := sent(r.Tick(now))
		if !slices.Equal(to, []PeerID{want}) || ttls[0] != 4 {
			t.Fatalf("step sent to %v at %v, want %s at TTL 4", to, ttls, want)
		}
		next, _ = r.NextTick()
		if got := next.Sub(now); got != 4*testHopWait {
			t.Fatalf("TTL-4 step waits %v, want 4 hop waits", got)
		}
		now = next
	}
	// The last step's wait over, the query ends and tells the leaf.
	res = r.Tick(now)
	if len(res.Send) != 1 || res.Send[0].To != "l" || !res.Send[0].D.Hit.Done || res.Send[0].D.TTL != 1 {
		t.Fatalf("exhausted query sent %+v, want one end notice to the leaf", res.Send)
	}
	if _, ok := r.NextTick(); ok || r.DynamicActive() != 0 {
		t.Fatalf("query still running after every neighbour was tried")
	}
	if c := r.Counters().Dynamic; c.Started != 1 || c.Exhausted != 1 {
		t.Fatalf("counters %+v", c)
	}
}

// TestDeepenSameSenderHigherTTL: a query seen before is passed on again
// when the same neighbour sends it with a higher TTL (a dynamic query
// deepening), and not answered twice; from another neighbour, or at the
// same TTL, or without dynamic querying, it is a duplicate.
func TestDeepenSameSenderHigherTTL(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := DefaultConfig("x")
		cfg.Dynamic.On = on
		r := NewRouter(cfg, &shares{node: "x", files: []string{"song.ogg"}})
		r.SetTopology(role.Ultrapeer, []PeerID{"u", "y", "z"}, nil, nil)
		q := func(ttl uint8) *Descriptor {
			return &Descriptor{Header: Header{GUID: dynGUID, Type: TypeQuery, TTL: ttl, Hops: 1}, Query: &Query{Criteria: "song"}}
		}
		res := r.Handle(t0, "u", q(1))
		if len(res.Send) != 1 || res.Send[0].D.Type != TypeQueryHit {
			t.Fatalf("first query: %+v, want one hit", res.Send)
		}
		res = r.Handle(t0, "u", q(3))
		to, ttls := sent(res)
		if !on {
			if res.Drop != DropDuplicate {
				t.Fatalf("without dynamic querying: %v, want a duplicate", res.Drop)
			}
			continue
		}
		if len(res.Send) != 2 || !slices.Equal(to, []PeerID{"y", "z"}) || !slices.Equal(ttls, []uint8{2, 2}) {
			t.Fatalf("deepened query sent %v at %v (%d descriptors), want y and z at TTL 2 and no second hit", to, ttls, len(res.Send))
		}
		for _, d := range []struct {
			from PeerID
			ttl  uint8
		}{{"u", 3}, {"u", 2}, {"y", 4}} {
			if res := r.Handle(t0, d.from, q(d.ttl)); res.Drop != DropDuplicate {
				t.Errorf("from %s at TTL %d: %v, want a duplicate", d.from, d.ttl, res.Drop)
			}
		}
	}
}

func TestDynamicStopsOnEnoughResults(t *testing.T) {
	r := dynUP(t, 3, meshOf(6)...)
	r.Handle(t0, "l", leafQuery(4))
	res := r.Handle(t0.Add(time.Millisecond), "n1", hitFrom(dynGUID, "a", "song1", "song2"))
	if len(res.Send) != 1 || res.Send[0].To != "l" {
		t.Fatalf("hit not routed back to the leaf: %+v", res.Send)
	}
	// The same results again (another path) do not count twice.
	r.Handle(t0.Add(2*time.Millisecond), "n2", hitFrom(dynGUID, "a", "song1", "song2"))
	if r.DynamicActive() != 1 {
		t.Fatalf("stopped on 2 distinct results, wants 3")
	}
	res = r.Handle(t0.Add(3*time.Millisecond), "n2", hitFrom(dynGUID, "b", "song1"))
	if r.DynamicActive() != 0 {
		t.Fatalf("still running with 3 results")
	}
	if len(res.Send) != 2 || len(res.Send[0].D.Hit.Results) != 1 || !res.Send[1].D.Hit.Done {
		t.Fatalf("third result: sent %+v, want the hit then the end notice", res.Send)
	}
	if res := r.Tick(t0.Add(time.Hour)); len(res.Send) != 0 {
		t.Fatalf("satisfied query widened: %v", res.Send)
	}
	if c := r.Counters().Dynamic; c.Satisfied != 1 {
		t.Fatalf("counters %+v", c)
	}
}

func TestDynamicTTLFromResultsAndDegree(t *testing.T) {
	r := dynUP(t, 20, meshOf(8)...)
	r.SetNeighbourDegrees(map[PeerID]int{"n4": 8, "n5": 80})
	r.Handle(t0, "l", leafQuery(6))
	// 5 results from the probe's horizon of 1 + 3*8 = 25 ultrapeers: 0.2
	// per ultrapeer, 15 more wanted, 75 ultrapeers to reach over the 5
	// neighbours left = 15 each: TTL 3 via a degree-8 neighbour (8 < 15
	// <= 57).
	r.Handle(t0, "n1", hitFrom(dynGUID, "a", "s1", "s2", "s3", "s4", "s5"))
	next, _ := r.NextTick()
	if to, ttls := sent(r.Tick(next)); !slices.Equal(to, []PeerID{"n4"}) || ttls[0] != 3 {
		t.Fatalf("sent to %v at %v, want n4 at TTL 3", to, ttls)
	}
	// horizon 25+57 = 82, 5 results: 15/(5/82)/4 = 61.5 each: a degree-80
	// neighbour covers that with TTL 2 (1 < 61.5 <= 1 + 79).
	next, _ = r.NextTick()
	if to, ttls := sent(r.Tick(next)); !slices.Equal(to, []PeerID{"n5"}) || ttls[0] != 2 {
		t.Fatalf("sent to %v at %v, want n5 at TTL 2", to, ttls)
	}
	if got := HostsReached(8, 3); got != 57 {
		t.Fatalf("HostsReached(8, 3) = %v, want 57", got)
	}
}

func TestDynamicPrefersQRPMatches(t *testing.T) {
	r := dynUP(t, 20, meshOf(6)...)
	has, hasNot := NewTable(DefaultTableBits), NewTable(DefaultTableBits)
	has.AddFile("song.mp3", fileHash("song.mp3"))
	for _, p := range meshOf(6) {
		r.SetNeighbourTable(p, hasNot)
	}
	r.SetNeighbourTable("n5", has)
	to, _ := sent(r.Handle(t0, "l", leafQuery(2)))
	if !slices.Equal(to, []PeerID{"n5", "n1", "n2"}) {
		t.Fatalf("probe to %v, want the QRP match n5 first", to)
	}
	// The leaf's TTL 2 leaves TTL 1 for the mesh: a TTL-1 query to a
	// neighbour whose table misses would find nothing, but it is all
	// the query allows.
	next, _ := r.NextTick()
	if to, ttls := sent(r.Tick(next)); !slices.Equal(to, []PeerID{"n3"}) || ttls[0] != 1 {
		t.Fatalf("sent to %v at %v, want n3 at TTL 1", to, ttls)
	}
}

func TestDynamicExpires(t *testing.T) {
	r := dynUP(t, 20, meshOf(8)...)
	r.cfg.Dynamic.MaxAge = time.Second
	r.Handle(t0, "l", leafQuery(4))
	if res := r.Tick(t0.Add(time.Second)); len(res.Send) != 1 || !res.Send[0].D.Hit.Done || r.DynamicActive() != 0 {
		t.Fatalf("query past MaxAge sent %+v, active %d; want only the end notice", res.Send, r.DynamicActive())
	}
	if c := r.Counters().Dynamic; c.Expired != 1 {
		t.Fatalf("counters %+v", c)
	}
}

func TestDynamicNotForMarkedOrForwardedQueries(t *testing.T) {
	r := dynUP(t, 20, meshOf(4)...)
	marked := leafQuery(3)
	marked.Query = &Query{Criteria: "song", WantAnswered: true}
	if to, _ := sent(r.Handle(t0, "l", marked)); len(to) != 4 || r.DynamicActive() != 0 {
		t.Fatalf("a query asking for answer marks must be flooded: sent to %v", to)
	}
	fwd := &Descriptor{Header: Header{GUID: GUID{9}, Type: TypeQuery, TTL: 3, Hops: 1}, Query: &Query{Criteria: "song"}}
	if to, _ := sent(r.Handle(t0, "n1", fwd)); len(to) != 3 || r.DynamicActive() != 0 {
		t.Fatalf("a neighbour's query must be forwarded as before: sent to %v", to)
	}
}

func TestDynamicOriginatedByUltrapeer(t *testing.T) {
	r := dynUP(t, 20, meshOf(5)...)
	res := r.Originate(t0, GUID{7}, &Query{Criteria: "song"}, 3)
	to, ttls := sent(res)
	if len(to) != 3 || ttls[0] != 2 || res.Send[0].D.Hops != 0 {
		t.Fatalf("own query probed %v at %v", to, ttls)
	}
	res = r.Handle(t0, "n1", hitFrom(GUID{7}, "a", "song"))
	if len(res.Delivered) != 1 || len(res.Done) != 0 {
		t.Fatalf("own hit not delivered, or the query ended early")
	}
	next, _ := r.NextTick()
	if to, ttls := sent(r.Tick(next)); len(to) != 1 || ttls[0] != 3 {
		t.Fatalf("widened to %v at %v, want one neighbour", to, ttls)
	}
}

func TestDynamicLeafSendsToOneUltrapeer(t *testing.T) {
	cfg := DefaultConfig("l")
	cfg.Dynamic.On = true
	r := NewRouter(cfg, nil)
	r.SetTopology(role.Leaf, nil, []PeerID{"u1", "u2", "u3"}, nil)
	for last, want := range []PeerID{"u1", "u2", "u3", "u1"} {
		g := GUID{8}
		g[15] = byte(last)
		to, ttls := sent(r.Originate(t0, g, &Query{Criteria: "song"}, 4))
		if !slices.Equal(to, []PeerID{want}) || ttls[0] != 4 {
			t.Fatalf("GUID ending %d: leaf sent to %v at %v, want %s at TTL 4", last, to, ttls, want)
		}
	}
	res := r.Originate(t0, GUID{9}, &Query{Criteria: "song", WantAnswered: true}, 4)
	if _, ttls := sent(res); !slices.Equal(ttls, []uint8{4, 4, 4}) {
		t.Fatalf("marked query sent at %v, want every ultrapeer at TTL 4", ttls)
	}
}

// TestDynamicFindsAcrossMesh runs a dynamic query through the test
// network: ultrapeer a with neighbours b1..b5, the file on x behind b4.
// The probe (b1..b3, TTL 2) finds nothing, the next step (b4, TTL 4)
// finds x's file, and b5 is never queried.
func TestDynamicFindsAcrossMesh(t *testing.T) {
	n := newTestNet(t)
	mesh := map[PeerID][]PeerID{
		"a": {"b1", "b2", "b3", "b4", "b5"}, "b1": {"a"}, "b2": {"a"}, "b3": {"a"},
		"b4": {"a", "x"}, "b5": {"a"}, "x": {"b4"},
	}
	for id, nb := range mesh {
		var files []string
		if id == "x" {
			files = []string{"rare song.ogg"}
		}
		cfg := DefaultConfig(id)
		cfg.Dynamic = DynamicConfig{On: true, Results: 1, HopWait: testHopWait}
		r := NewRouter(cfg, &shares{node: string(id), files: files})
		r.SetTopology(role.Ultrapeer, nb, nil, nil)
		n.routers[id] = r
	}
	a := n.routers["a"]
	n.run("a", a.Originate(n.now, GUID{0x42}, &Query{Criteria: "rare"}, 4))
	for steps := 0; len(n.delivered["a"]) == 0; steps++ {
		next, ok := a.NextTick()
		if !ok || steps > 5 {
			t.Fatalf("no hit after %d steps", steps)
		}
		n.now = next
		n.run("a", a.Tick(next))
	}
	if a.DynamicActive() != 0 {
		t.Fatalf("query still runs after its one wanted result")
	}
	if len(n.queries["b5"]) != 0 {
		t.Errorf("b5 was queried: the query widened beyond need")
	}
	if len(n.queries["b4"]) != 1 || n.queries["b4"][0].TTL != 4 {
		t.Errorf("b4 got %v, want one query at TTL 4", n.queries["b4"])
	}
}

// TestDynamicEndNotice: the end notice survives the wire (an empty hit
// with GGEP "DQ") and the leaf's router reports its search's query done.
func TestDynamicEndNotice(t *testing.T) {
	notice := &Descriptor{Header: Header{GUID: dynGUID, Type: TypeQueryHit, TTL: 1}, Hit: &QueryHit{Node: "u", Done: true}}
	b, err := notice.AppendMarshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != notice.EncodedLen() || !bytes.Contains(b, []byte{0x82, 'D', 'Q', 0x40}) {
		t.Fatalf("encoded % x (%d bytes, EncodedLen %d): want a last GGEP extension DQ with no data", b, len(b), notice.EncodedLen())
	}
	got, err := Unmarshal(b)
	if err != nil || !got.Hit.Done || len(got.Hit.Results) != 0 || got.Hit.Node != "u" {
		t.Fatalf("decoded %+v, %v", got.Hit, err)
	}
	cfg := DefaultConfig("l")
	cfg.Dynamic.On = true
	leaf := NewRouter(cfg, nil)
	leaf.SetTopology(role.Leaf, nil, []PeerID{"u"}, nil)
	leaf.Originate(t0, dynGUID, &Query{Criteria: "song"}, 4)
	res := leaf.Handle(t0, "u", got)
	if !slices.Equal(res.Done, []GUID{dynGUID}) || len(res.Delivered) != 0 {
		t.Fatalf("leaf: done %v, delivered %d; want the search's GUID done, nothing delivered", res.Done, len(res.Delivered))
	}
}
