package daemon

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
	"github.com/servent-p2p/servent/ultrapeer"
)

// udpCounter counts the datagrams a UDP socket on 127.0.99.x receives: a
// host outside the network that a hit names.
type udpCounter struct {
	addr netip.AddrPort
	n    atomic.Int64
}

func newUDPCounter(t *testing.T) *udpCounter {
	t.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.99.7:0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &udpCounter{addr: conn.LocalAddr().(*net.UDPAddr).AddrPort()}
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := conn.ReadFromUDP(buf); err != nil {
				return
			}
			c.n.Add(1)
		}
	}()
	return c
}

// TestHostileHits attacks the query plane's answers from members of a
// keyed network (#14 item 7): hits injected by a member the query did not
// go to, one file answered with a hundred holders, sources that name a
// host outside the network, and a hit lying about a file's size.
func TestHostileHits(t *testing.T) {
	o := clusterOptions{routing: "smart", leavesPerUltrapeer: 2, meshDegree: 4, ttl: 4}
	nodes := startNodes(t, 5, o, func(_ int, cfg *configs.Config) { cfg.Key = "correct horse battery staple" })
	waitUp(t, nodes, 60*time.Second)
	var ups, leaves []*Daemon
	for _, d := range nodes {
		if d.role() == role.Ultrapeer {
			ups = append(ups, d)
		} else {
			leaves = append(leaves, d)
		}
	}
	if len(ups) < 2 || len(leaves) < 2 {
		t.Skipf("want two ultrapeers and two leaves, have %d and %d", len(ups), len(leaves))
	}
	victim, attacker := leaves[0], leaves[1]
	up := ups[0]
	t.Logf("victim %s, attacker %s (leaves); ultrapeer %s holds %v", victim.ov.Name(), attacker.ov.Name(), up.ov.Name(), up.registry.Leaves())

	t.Run("hits injected by a member the query did not go to", func(t *testing.T) {
		// A search of the victim's, sent again until it reaches up (a
		// datagram may be lost on a loaded machine).
		var g query.GUID
		eventually(t, 15*time.Second, "a query of the victim to reach "+up.ov.Name(), func() bool {
			q0 := routerCounters(up).Query.Received
			g = newGUID()
			var res query.Result
			victim.withRouter(func(r *query.Router) {
				res = r.Originate(time.Now(), g, &query.Query{Criteria: "zzz inject"}, 4)
			})
			victim.sendAll(res.Send)
			time.Sleep(300 * time.Millisecond)
			return routerCounters(up).Query.Received > q0
		})
		// Let the network's own answers (answer marks, a dynamic query's
		// end notice) arrive before counting.
		settled := routerCounters(victim).QueryHit.Delivered
		eventually(t, 5*time.Second, "the victim's own answers to stop arriving", func() bool {
			time.Sleep(500 * time.Millisecond)
			now := routerCounters(victim).QueryHit.Delivered
			defer func() { settled = now }()
			return now == settled
		})
		// What the victim delivers for g from here on: the network's own
		// answers may still come late on a loaded machine, so the check is
		// on what was delivered, not on a count.
		delivered := make(chan searchEvent, 128)
		victim.searches.add(g, delivered)
		defer victim.searches.remove(delivered)
		v0, u0 := routerCounters(victim).QueryHit, routerCounters(up).QueryHit
		const n = 20
		for range n {
			sendFrom(t, attacker, victim, query.PlaneByte, hitBytes(t, g)) // to the searching leaf
			sendFrom(t, attacker, up, query.PlaneByte, hitBytes(t, g))     // to an ultrapeer on its path
		}
		eventually(t, 5*time.Second, "the injected hits to be dropped", func() bool {
			v, u := routerCounters(victim).QueryHit, routerCounters(up).QueryHit
			return v.Dropped.Unexpected-v0.Dropped.Unexpected >= n && u.Dropped.Unexpected-u0.Dropped.Unexpected >= n
		})
		v, u := routerCounters(victim).QueryHit, routerCounters(up).QueryHit
		t.Logf("%d hits injected at the leaf: %d dropped, %d delivered; %d at ultrapeer %s: %d dropped, %d forwarded",
			n, v.Dropped.Unexpected-v0.Dropped.Unexpected, v.Delivered-v0.Delivered, n, up.ov.Name(), u.Dropped.Unexpected-u0.Dropped.Unexpected, u.Forwarded-u0.Forwarded)
		// Every injected hit has been dropped where it landed (above); none
		// may have reached the victim's search either.
		for len(delivered) > 0 {
			if ev := <-delivered; ev.hit != nil && ev.hit.Hit.Node == sampleHit().Node {
				t.Errorf("an injected hit was delivered to the victim: %+v", ev.hit.Hit)
			}
		}
	})

	t.Run("one file answered with a hundred holders", func(t *testing.T) {
		var h content.Hash
		rand.Read(h[:])
		for i := range 100 {
			var fp [32]byte
			rand.Read(fp[:])
			owner := ultrapeer.Owner{ID: fmt.Sprintf("ghost%03d", i), Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.99.8"), uint16(20000+i)), Fingerprint: fp}
			if _, err := up.registry.Apply(owner, ultrapeer.Update{Full: true, ToVersion: 1, Add: []ultrapeer.Entry{{Path: "zzzcap.iso", Size: 1 << 30, Hash: h}}}); err != nil {
				t.Fatal(err)
			}
		}
		defer func() {
			for i := range 100 {
				up.registry.Drop(fmt.Sprintf("ghost%03d", i))
			}
		}()
		var got api.Result
		var done api.SearchDone
		eventually(t, 20*time.Second, "the hundred holders to answer", func() bool {
			done = victim.searcher.search(t.Context(), api.SearchRequest{Words: []string{"zzzcap"}, Timeout: 5 * time.Second}, func(r api.Result) { got = r })
			return done.Hits >= 50
		})
		t.Logf("100 holders answered for one file: %d hit descriptors, %d sources kept", done.Hits, len(got.Sources))
		if len(got.Sources) == 0 || len(got.Sources) > maxSourcesPerResult {
			t.Errorf("%d sources kept, want 1..%d", len(got.Sources), maxSourcesPerResult)
		}
	})

	// A file only the ultrapeer up shares.
	upFile := "doc" + strings.TrimPrefix(up.ov.Name(), "node")
	real := find(t, victim, upFile)
	realHash, _ := content.ParseHash(real.Hash)

	t.Run("sources outside the network", func(t *testing.T) {
		outside := newUDPCounter(t)
		var stranger [32]byte
		rand.Read(stranger[:])
		member := up.ov.Fingerprint()
		req := api.GetRequest{Hash: real.Hash, Name: "outside.txt", OutDir: t.TempDir(), Sources: []api.Source{
			{Name: "mallory", Addr: outside.addr.String(), Fingerprint: fmt.Sprintf("%x", stranger)}, // a stranger's key
			{Name: "alias", Addr: outside.addr.String(), Fingerprint: fmt.Sprintf("%x", member)},     // a member's key, another host
		}}
		ev := getVia(t, victim, req)
		time.Sleep(500 * time.Millisecond)
		t.Logf("download naming a host outside the network twice: %d datagrams reached it; result %+v %s", outside.n.Load(), ev.Done, ev.Error)
		if outside.n.Load() != 0 {
			t.Errorf("%d datagrams sent to a host outside the network", outside.n.Load())
		}
		if ev.Done == nil || ev.Done.Size != real.Size {
			t.Errorf("download from the member behind its key: %+v %s", ev.Done, ev.Error)
		}
	})

	t.Run("a hit lying about the size", func(t *testing.T) {
		// up answers for its own file with a size 1000 bytes too big: it
		// is the only holder, so every hit lies.
		var entries []ultrapeer.Entry
		for _, e := range up.entries() {
			if e.Hash == realHash {
				e.Size += 1000
			}
			entries = append(entries, e)
		}
		if _, err := up.registry.ApplySelf(up.selfOwner(), ultrapeer.Update{Full: true, ToVersion: 1 << 40, Add: entries}); err != nil {
			t.Fatal(err)
		}
		var lied api.Result
		eventually(t, 10*time.Second, "the lying size in search results", func() bool {
			victim.searcher.search(t.Context(), api.SearchRequest{Hash: real.Hash, Timeout: 2 * time.Second}, func(r api.Result) { lied = r })
			return lied.Size == real.Size+1000
		})
		ev := getVia(t, victim, api.GetRequest{Hash: real.Hash, OutDir: t.TempDir()})
		if ev.Done == nil {
			t.Fatalf("download after a hit lied about the size: %s", ev.Error)
		}
		b, err := os.ReadFile(ev.Done.Path)
		if err != nil || int64(len(b)) != real.Size || slices.Contains(ev.Done.Liars, up.ov.Name()) {
			t.Fatalf("downloaded %d bytes (%v), liars %v; want %d from %s", len(b), err, ev.Done.Liars, real.Size, up.ov.Name())
		}
		t.Logf("hits said %d bytes; the download took %d from the verified outboard, liars %v", lied.Size, ev.Done.Size, ev.Done.Liars)
	})
}

// TestHostileSourcesOtherHash: while a download looks for the sources of
// one hash, an ultrapeer on the path answers with a hit for another file
// (#14 item 7). findSources must keep only the hash it asked for. One
// ultrapeer's datagrams are delayed, so the search is still open when the
// forged hit comes after the real one.
func TestHostileSourcesOtherHash(t *testing.T) {
	o := clusterOptions{routing: "smart", leavesPerUltrapeer: 2, meshDegree: 4, ttl: 4}
	nodes := startNodes(t, 3, o, func(i int, cfg *configs.Config) {
		cfg.Role = []string{"ultrapeer", "ultrapeer", "leaf"}[i]
		if i == 1 {
			cfg.FaultInjection = "delay=1500ms"
		}
	})
	waitUp(t, nodes, 30*time.Second)
	up, victim := nodes[0], nodes[2]
	want := find(t, victim, "doc000")
	h, _ := content.ParseHash(want.Hash)
	d0 := routerCounters(victim).QueryHit.Delivered

	type found struct {
		res  api.Result
		srcs []api.Source
	}
	out := make(chan found, 1)
	go func() {
		res, srcs := victim.fetcher.findSources(t.Context(), h)
		out <- found{res, srcs}
	}()
	// Once the real hit is delivered, up forges one for another file.
	eventually(t, 5*time.Second, "the real hit", func() bool { return routerCounters(victim).QueryHit.Delivered > d0 })
	var g query.GUID
	for _, id := range victim.searches.guids() {
		g = id
	}
	d1 := routerCounters(victim).QueryHit.Delivered
	sendFrom(t, up, victim, query.PlaneByte, hitBytes(t, g))
	eventually(t, 5*time.Second, "the forged hit to be delivered", func() bool { return routerCounters(victim).QueryHit.Delivered > d1 })
	got := <-out
	t.Logf("a hit for another file during the source search: delivered; findSources kept %s with sources %v", got.res.Hash, got.srcs)
	if got.res.Hash != want.Hash || slices.ContainsFunc(got.srcs, func(s api.Source) bool { return s.Name == "mallory" }) {
		t.Fatalf("findSources kept %s %v, want %s from %s", got.res.Hash, got.srcs, want.Hash, up.ov.Name())
	}
}
