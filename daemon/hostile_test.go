package daemon

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/query"
	"github.com/servent-p2p/servent/role"
	"github.com/servent-p2p/servent/storage"
	"github.com/servent-p2p/servent/transfer"
)

// The hostile-input tests attack real in-process nodes (real sockets, QUIC
// and badger) and check, after each attack, that the node is still up (a
// search through it still finds files), that the drop was counted, and that
// no catalog lost or changed an entry.

// startNodes starts n daemons seeded by the first, each configured by
// testConfig and then by mod (may be nil).
func startNodes(t *testing.T, n int, o clusterOptions, mod func(i int, cfg *configs.Config)) []*Daemon {
	t.Helper()
	o.nodes, o.configure = n, mod
	return startCluster(t, o).nodes
}

// waitUp waits until the nodes form a settled network (see unsettled).
func waitUp(t *testing.T, nodes []*Daemon, timeout time.Duration) {
	t.Helper()
	(&cluster{t: t, nodes: nodes}).settled(timeout)
}

// catalog is a node's catalog as comparable lines.
func catalog(t *testing.T, d *Daemon) []string {
	t.Helper()
	files, err := d.store.Files()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, fmt.Sprintf("%s|%s|%d|%d|%s", f.Root, f.Path, f.Size, f.ModTime, f.Hash))
	}
	slices.Sort(out)
	return out
}

// catalogs snapshots every node's catalog.
func catalogs(t *testing.T, nodes []*Daemon) [][]string {
	t.Helper()
	var out [][]string
	for _, d := range nodes {
		out = append(out, catalog(t, d))
	}
	return out
}

// sameCatalogs fails unless every node's catalog equals its snapshot.
func sameCatalogs(t *testing.T, nodes []*Daemon, before [][]string) {
	t.Helper()
	for i, d := range nodes {
		if got := catalog(t, d); !slices.Equal(got, before[i]) {
			t.Errorf("%s: catalog changed:\n got %v\nwant %v", d.ov.Name(), got, before[i])
		}
	}
}

// find searches from d until a result whose name contains word arrives.
func find(t *testing.T, d *Daemon, word string) api.Result {
	t.Helper()
	var got api.Result
	eventually(t, 15*time.Second, d.ov.Name()+" to find "+word, func() bool {
		d.searcher.search(t.Context(), api.SearchRequest{Words: []string{word}, Timeout: 2 * time.Second, Max: 1}, func(r api.Result) {
			if strings.Contains(r.Name, word) {
				got = r
			}
		})
		return got.Hash != ""
	})
	return got
}

// stillUp checks that target answers searches and searches itself.
func stillUp(t *testing.T, target, other *Daemon) {
	t.Helper()
	find(t, other, "doc"+strings.TrimPrefix(target.ov.Name(), "node"))
	find(t, target, "doc"+strings.TrimPrefix(other.ov.Name(), "node"))
}

// routerCounters snapshots d's routing-core counters.
func routerCounters(d *Daemon) query.Counters {
	var c query.Counters
	d.withRouter(func(r *query.Router) { c = r.Counters() })
	return c
}

// queryBytes encodes a query descriptor with a fresh GUID.
func queryBytes(t *testing.T, ttl, hops uint8, criteria string) []byte {
	t.Helper()
	d := &query.Descriptor{Header: query.Header{GUID: newGUID(), Type: query.TypeQuery, TTL: ttl, Hops: hops}, Query: &query.Query{Criteria: criteria}}
	b, err := d.AppendMarshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sendFrom sends b on plane from member src to dst, on src's authenticated
// datagram connection, as src's daemon would.
func sendFrom(t *testing.T, src, dst *Daemon, plane byte, b []byte) {
	t.Helper()
	if err := src.ov.SendDatagram(dst.ov.StandIn(), plane, b); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// hostileNet starts 5 nodes (2 or 3 ultrapeers) with a low query rate and
// returns an ultrapeer target, a leaf attacker, and another leaf.
func hostileNet(t *testing.T) (nodes []*Daemon, target, attacker, bystander *Daemon) {
	t.Helper()
	o := clusterOptions{routing: "smart", leavesPerUltrapeer: 2, meshDegree: 4, ttl: 4}
	nodes = startNodes(t, 5, o, func(_ int, cfg *configs.Config) { cfg.QueryRate = 10 })
	waitUp(t, nodes, 30*time.Second)
	for _, d := range nodes {
		switch {
		case d.role() == role.Ultrapeer && target == nil:
			target = d
		case d.role() == role.Leaf && attacker == nil:
			attacker = d
		case d.role() == role.Leaf && bystander == nil:
			bystander = d
		}
	}
	if target == nil || attacker == nil || bystander == nil {
		t.Fatalf("want an ultrapeer and two leaves; roles: %v", func() []string {
			var r []string
			for _, d := range nodes {
				r = append(r, d.ov.Name()+"="+d.role().String())
			}
			return r
		}())
	}
	t.Logf("target %s (ultrapeer), attacker %s and bystander %s (leaves)", target.ov.Name(), attacker.ov.Name(), bystander.ov.Name())
	return nodes, target, attacker, bystander
}

func TestHostileDatagrams(t *testing.T) {
	nodes, target, attacker, bystander := hostileNet(t)
	before := catalogs(t, nodes)
	rng := mrand.New(mrand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}

	t.Run("malformed from a member", func(t *testing.T) {
		valid := queryBytes(t, 3, 0, "zzz nomatch")
		var junk [][]byte
		for _, n := range []int{0, 1, 5, 22, 23, 24, 60, 300, 1199} {
			junk = append(junk, random(n)) // random bytes after plane byte 0x02
		}
		for _, cut := range []int{1, 16, 22, 23, 25, len(valid) - 1} {
			junk = append(junk, valid[:cut]) // truncated valid descriptor
		}
		junk = append(junk, append(slices.Clone(valid), 0, 0, 0)) // trailing bytes
		long := slices.Clone(valid)
		binary.LittleEndian.PutUint32(long[19:], 0xFFFFFFFF) // payload length lies
		junk = append(junk, long)
		for _, typ := range []byte{0x00, 0x01, 0x40, 0x82, 0xFF} { // ping, pong, push, unknown
			b := slices.Clone(valid)
			b[16] = typ
			junk = append(junk, b)
		}
		hit := hitBytes(t, newGUID())
		junk = append(junk, hit[:len(hit)-3])
		m0 := target.Status().Datagrams.Malformed
		for _, b := range junk {
			sendFrom(t, attacker, target, query.PlaneByte, b)
		}
		eventually(t, 5*time.Second, "every malformed datagram counted", func() bool {
			return target.Status().Datagrams.Malformed >= m0+uint64(len(junk))
		})
		t.Logf("%d malformed query-plane datagrams from a member: Status().Datagrams.Malformed %d -> %d", len(junk), m0, target.Status().Datagrams.Malformed)

		// Unknown plane bytes 0x00 and 0x03-0x3F from a member.
		u0 := target.ov.Stats().DroppedUnknownPlane
		planes := 0
		for p := byte(0x00); p <= 0x3F; p++ {
			if p == overlay.PlaneMemberlist || p == query.PlaneByte {
				continue
			}
			sendFrom(t, attacker, target, p, random(40))
			planes++
		}
		eventually(t, 5*time.Second, "unknown planes counted", func() bool {
			return target.ov.Stats().DroppedUnknownPlane >= u0+uint64(planes)
		})
		// The overlay refuses to send past MaxDatagram.
		if err := attacker.ov.SendDatagram(target.ov.LocalAddr(), query.PlaneByte, make([]byte, overlay.MaxDatagram)); !errors.Is(err, overlay.ErrTooLarge) {
			t.Errorf("oversize send: %v, want ErrTooLarge", err)
		}
		stillUp(t, target, bystander)
	})

	t.Run("queries forged from a member address", func(t *testing.T) {
		// An outsider forges a leaf's address as the source of queries
		// that match files, and of oversized datagrams. None is read: the
		// query plane rides the members' QUIC connections, so a raw
		// datagram proves nothing, and nothing is sent back to the leaf.
		st0, q0 := target.ov.Stats(), routerCounters(target)
		in0 := attacker.ov.Stats().Planes[query.PlaneByte].In
		word := "doc" + strings.TrimPrefix(bystander.ov.Name(), "node")
		var forged int
		for range 50 {
			if err := spoofUDP(attacker.ov.LocalAddr(), target.ov.LocalAddr(), append([]byte{query.PlaneByte}, queryBytes(t, 3, 0, word)...)); err != nil {
				t.Skipf("raw socket (needs root): %v", err)
			}
			forged++
		}
		for _, n := range []int{overlay.MaxDatagram + 1, 2000, 9000, 60000} {
			if err := spoofUDP(attacker.ov.LocalAddr(), target.ov.LocalAddr(), append([]byte{query.PlaneByte}, random(n-1)...)); err != nil {
				t.Fatal(err)
			}
			forged++
		}
		eventually(t, 5*time.Second, "forged datagrams dropped unread", func() bool {
			return target.ov.Stats().DroppedUnauthenticated >= st0.DroppedUnauthenticated+uint64(forged)
		})
		time.Sleep(300 * time.Millisecond) // answers, if any, would be back by now
		st, q := target.ov.Stats(), routerCounters(target)
		if q.Malformed != q0.Malformed {
			t.Errorf("forged datagrams reached the parser: malformed %d -> %d", q0.Malformed, q.Malformed)
		}
		// The leaf searched nothing: any query-plane datagram it got would
		// be an answer to the forged queries (today's hits for doc files).
		back := attacker.ov.Stats().Planes[query.PlaneByte].In - in0
		if back != 0 {
			t.Errorf("the leaf whose address was forged got %d query-plane datagrams, want 0", back)
		}
		t.Logf("%d datagrams forged from %s: %d dropped unread, %d datagrams reached the leaf",
			forged, attacker.ov.LocalAddr(), st.DroppedUnauthenticated-st0.DroppedUnauthenticated, back)
		find(t, attacker, word) // the leaf's own allowance is untouched
		stillUp(t, target, bystander)
	})

	t.Run("from a non-member address", func(t *testing.T) {
		conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.99.1:0")))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		to := net.UDPAddrFromAddrPort(target.ov.LocalAddr())
		st0, q0 := target.ov.Stats(), routerCounters(target)
		var plane2, unknown int
		send := func(b []byte) {
			if _, err := conn.WriteToUDP(b, to); err != nil {
				t.Fatal(err)
			}
		}
		for range 20 {
			send(append([]byte{query.PlaneByte}, random(rng.IntN(1400))...))
			plane2++
		}
		for range 10 {
			send(append([]byte{query.PlaneByte}, queryBytes(t, 3, 0, "doc000")...)) // a valid query
			plane2++
		}
		send(append([]byte{query.PlaneByte}, random(4000)...)) // cut to 1452 by the socket
		plane2++
		for _, p := range []byte{0x00, 0x03, 0x3F} {
			send(append([]byte{p}, random(100)...))
			unknown++
		}
		send(nil) // empty datagram
		for range 10 {
			send(append([]byte{overlay.PlaneMemberlist}, random(200)...)) // memberlist garbage
			send(append([]byte{0xC3}, random(1200)...))                   // QUIC long-header garbage
			send(append([]byte{0x40}, random(50)...))                     // QUIC short-header garbage
		}
		eventually(t, 5*time.Second, "non-member datagrams counted", func() bool {
			st := target.ov.Stats()
			return st.DroppedUnauthenticated >= st0.DroppedUnauthenticated+uint64(plane2) &&
				st.DroppedUnknownPlane >= st0.DroppedUnknownPlane+uint64(unknown) &&
				st.DroppedMalformed >= st0.DroppedMalformed+1
		})
		st := target.ov.Stats()
		t.Logf("from a non-member: DroppedUnauthenticated +%d, DroppedUnknownPlane +%d, DroppedMalformed +%d",
			st.DroppedUnauthenticated-st0.DroppedUnauthenticated, st.DroppedUnknownPlane-st0.DroppedUnknownPlane, st.DroppedMalformed-st0.DroppedMalformed)
		if q := routerCounters(target); q.Malformed != q0.Malformed {
			// Members send only well-formed datagrams: a moved count means
			// our garbage reached the parser.
			t.Errorf("non-member datagrams reached the router: malformed %d -> %d", q0.Malformed, q.Malformed)
		}
		if n := target.ov.NumMembers(); n != len(nodes) {
			t.Errorf("members %d after garbage on the memberlist plane, want %d", n, len(nodes))
		}
		stillUp(t, target, bystander)
	})

	t.Run("TTL and hops beyond the limits", func(t *testing.T) {
		c0 := routerCounters(target)
		cases := [][2]uint8{{8, 0}, {7, 1}, {4, 4}, {1, 7}, {0, 0}, {0, 3}, {255, 255}}
		for _, c := range cases {
			sendFrom(t, attacker, target, query.PlaneByte, queryBytes(t, c[0], c[1], "zzz nomatch"))
		}
		hit := &query.Descriptor{Header: query.Header{GUID: newGUID(), Type: query.TypeQueryHit, TTL: 200, Hops: 0}, Hit: sampleHit()}
		hb, err := hit.AppendMarshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		sendFrom(t, attacker, target, query.PlaneByte, hb)
		eventually(t, 5*time.Second, "TTL drops counted", func() bool {
			c := routerCounters(target)
			return c.Query.Dropped.TTL >= c0.Query.Dropped.TTL+uint64(len(cases)) && c.QueryHit.Dropped.TTL >= c0.QueryHit.Dropped.TTL+1
		})
		c := routerCounters(target)
		if f := c.Query.Forwarded - c0.Query.Forwarded; f > 0 {
			t.Logf("note: %d queries forwarded meanwhile (other traffic)", f)
		}
		t.Logf("TTL/hops over 7: query ttl drops +%d, hit ttl drops +%d", c.Query.Dropped.TTL-c0.Query.Dropped.TTL, c.QueryHit.Dropped.TTL-c0.QueryHit.Dropped.TTL)
		stillUp(t, target, bystander)
	})

	t.Run("replayed GUID and unknown-GUID hit", func(t *testing.T) {
		c0 := routerCounters(target)
		q := queryBytes(t, 2, 0, "zzz replay")
		for range 3 {
			sendFrom(t, attacker, target, query.PlaneByte, q)
		}
		for range 3 {
			sendFrom(t, attacker, target, query.PlaneByte, hitBytes(t, newGUID()))
		}
		eventually(t, 5*time.Second, "duplicates and unknown GUIDs counted", func() bool {
			c := routerCounters(target)
			return c.Query.Dropped.Duplicate >= c0.Query.Dropped.Duplicate+2 && c.QueryHit.Dropped.UnknownGUID >= c0.QueryHit.Dropped.UnknownGUID+3
		})
		c := routerCounters(target)
		t.Logf("replayed GUID x3: duplicate drops +%d; 3 hits for unknown GUIDs: unknown_guid drops +%d",
			c.Query.Dropped.Duplicate-c0.Query.Dropped.Duplicate, c.QueryHit.Dropped.UnknownGUID-c0.QueryHit.Dropped.UnknownGUID)
		stillUp(t, target, bystander)
	})

	t.Run("query flood from one member", func(t *testing.T) {
		const flood = 200
		c0 := routerCounters(target)
		others := map[*Daemon]uint64{}
		for _, d := range nodes {
			if d != target {
				others[d] = routerCounters(d).Query.Dropped.RateLimited
			}
		}
		start := time.Now()
		for i := range flood {
			sendFrom(t, attacker, target, query.PlaneByte, queryBytes(t, 2, 0, fmt.Sprintf("zzz flood %d", i)))
		}
		sent := time.Since(start)
		// Loopback may drop a few datagrams under load: wait for all of
		// them, or for at least half once the count stops moving.
		var c query.Counters
		deadline := time.Now().Add(5 * time.Second)
		for last := uint64(0); ; time.Sleep(100 * time.Millisecond) {
			c = routerCounters(target)
			got := c.Query.Received - c0.Query.Received
			if got >= flood || time.Now().After(deadline) || got >= flood/2 && got == last {
				break
			}
			last = got
		}
		received := c.Query.Received - c0.Query.Received
		limited := c.Query.Dropped.RateLimited - c0.Query.Dropped.RateLimited
		t.Logf("%d queries in %v from one member, %d received, query_rate %v (burst %v): rate_limited +%d, forwarded +%d",
			flood, sent.Round(time.Millisecond), received, target.cfg.QueryRate, 4*target.cfg.QueryRate, limited, c.Query.Forwarded-c0.Query.Forwarded)
		for d, r0 := range others {
			if n := routerCounters(d).Query.Dropped.RateLimited - r0; n > 0 {
				t.Logf("%s (%s) rate-limited %d forwarded flood queries", d.ov.Name(), d.role(), n)
			}
		}
		// At most burst + rate*elapsed pass.
		passable := 4*target.cfg.QueryRate + target.cfg.QueryRate*time.Since(start).Seconds()
		if received < flood/2 || float64(limited) < float64(received)-passable-1 {
			t.Errorf("%d of %d received, rate_limited +%d, want at least %.0f", received, flood, limited, float64(received)-passable)
		}
		stillUp(t, target, bystander)
	})

	sameCatalogs(t, nodes, before)
}

// sampleHit is a well-formed QueryHit payload for a file nobody asked for.
func sampleHit() *query.QueryHit {
	var h content.Hash
	rand.Read(h[:])
	return &query.QueryHit{
		Addr:    netip.MustParseAddr("127.0.99.9"),
		Port:    6346,
		Results: []query.FileResult{{Index: 1, Size: 1234, Name: "evil.exe", Hash: h}},
		Node:    "mallory",
	}
}

// hitBytes encodes a QueryHit descriptor for guid.
func hitBytes(t *testing.T, guid query.GUID) []byte {
	t.Helper()
	d := &query.Descriptor{Header: query.Header{GUID: guid, Type: query.TypeQueryHit, TTL: 3}, Hit: sampleHit()}
	b, err := d.AppendMarshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// h3Conn is an HTTP/3 client connection from one node to another, dialled
// over the client node's socket with its pinned TLS.
type h3Conn struct {
	addr netip.AddrPort
	conn *quic.Conn
	cc   *http3.ClientConn
}

func dialH3(ctx context.Context, from, to *Daemon) (*h3Conn, error) {
	conf := from.ov.ClientTLS(to.ov.Fingerprint())
	conf.NextProtos = []string{transfer.ALPN}
	conn, err := from.ov.DialTLS(ctx, to.ov.LocalAddr(), conf, nil)
	if err != nil {
		return nil, err
	}
	return &h3Conn{addr: to.ov.LocalAddr(), conn: conn, cc: (&http3.Transport{}).NewClientConn(conn)}, nil
}

func (c *h3Conn) close() { c.conn.CloseWithError(0, "done") }

// do sends one request and returns the status and body (at most 1 MiB).
func (c *h3Conn) do(ctx context.Context, method, path, rng string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "https://"+c.addr.String()+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := c.cc.RoundTrip(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// getVia runs a download through the daemon's control handler (as `servent
// get` does) and returns its final event.
func getVia(t *testing.T, d *Daemon, req api.GetRequest) api.GetEvent {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, api.RouteGet, bytes.NewReader(body))
	w := httptest.NewRecorder()
	controlHandler(controlNode{d}, d.log).ServeHTTP(w, r)
	var last api.GetEvent
	dec := json.NewDecoder(w.Body)
	for {
		var ev api.GetEvent
		if err := dec.Decode(&ev); err != nil {
			break
		}
		last = ev
	}
	if last.Done == nil && last.Error == "" {
		t.Fatalf("get: no final event; status %d body %q", w.Code, w.Body.String())
	}
	return last
}

// mountTmpfs mounts a tmpfs with opts on a new temp dir, or skips the test.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func TestHostileTransfer(t *testing.T) {
	const bigSize = 4 << 20
	big := make([]byte, bigSize)
	rand.Read(big)
	o := clusterOptions{routing: "smart", leavesPerUltrapeer: 2, meshDegree: 4, ttl: 4}
	nodes := startNodes(t, 3, o, func(i int, cfg *configs.Config) {
		if i == 1 {
			if err := os.WriteFile(filepath.Join(cfg.Shares[0], "bigmap.bin"), big, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	waitUp(t, nodes, 30*time.Second)
	server, client := nodes[1], nodes[2]
	before := catalogs(t, nodes)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	doc := find(t, client, "doc001")
	docHash, err := content.ParseHash(doc.Hash)
	if err != nil {
		t.Fatal(err)
	}
	var unknown content.Hash
	rand.Read(unknown[:])

	t.Run("paths, unknown hashes, absurd ranges", func(t *testing.T) {
		c, err := dialH3(ctx, client, server)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		cases := []struct {
			method, path, rng string
			want              int
		}{
			{"GET", "/f/" + doc.Hash, "", http.StatusOK},
			{"GET", "/f/../../etc/passwd", "", http.StatusNotFound},
			{"GET", "/f/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "", http.StatusNotFound},
			{"GET", "/f/" + doc.Hash + "/../../../../etc/passwd", "", http.StatusNotFound},
			{"GET", "/f//etc/passwd", "", http.StatusNotFound},
			{"GET", "/etc/passwd", "", http.StatusNotFound},
			{"GET", "/f/" + docHash.URN() + "x", "", http.StatusNotFound},
			{"GET", "/f/" + unknown.String(), "", http.StatusNotFound},
			{"GET", "/uri-res/N2R?" + unknown.URN(), "", http.StatusNotFound},
			{"GET", "/outboard/" + unknown.String(), "", http.StatusNotFound},
			{"PUT", "/f/" + doc.Hash, "", http.StatusMethodNotAllowed},
			{"GET", "/f/" + doc.Hash, "bytes=1000000000000-", http.StatusRequestedRangeNotSatisfiable},
			{"GET", "/f/" + doc.Hash, "bytes=5-2", http.StatusRequestedRangeNotSatisfiable},
			{"GET", "/f/" + doc.Hash, "bytes=0-99999999999999999999999", http.StatusRequestedRangeNotSatisfiable},
			{"GET", "/f/" + doc.Hash, "bytes=-99999999999999999999999", http.StatusRequestedRangeNotSatisfiable},
			{"GET", "/f/" + doc.Hash, "bytes=" + strings.Repeat("0-18,", 500) + "0-18", http.StatusOK},
			{"GET", "/f/" + doc.Hash, "bytes=0-3", http.StatusPartialContent},
		}
		for _, tc := range cases {
			code, body, err := c.do(ctx, tc.method, tc.path, tc.rng)
			if err != nil {
				t.Errorf("%s %s (Range %.30q): %v", tc.method, tc.path, tc.rng, err)
				continue
			}
			if code != tc.want {
				t.Errorf("%s %s (Range %.30q): %d %q, want %d", tc.method, tc.path, tc.rng, code, body, tc.want)
			}
			if code == http.StatusOK && len(body) != int(doc.Size) || bytes.Contains(body, []byte("root:")) {
				t.Errorf("%s %s: unexpected body %q", tc.method, tc.path, body)
			}
		}
		stillUp(t, server, client)
	})

	t.Run("file swapped on disk after indexing", func(t *testing.T) {
		path := filepath.Join(server.cfg.Shares[0], "doc001 report.txt")
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		swapped := bytes.ToUpper(old)
		st, _ := os.Stat(path)
		if err := os.WriteFile(path, swapped, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, st.ModTime().Add(-time.Hour), st.ModTime().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		c, err := dialH3(ctx, client, server)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		code, body, err := c.do(ctx, "GET", "/f/"+doc.Hash, "")
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusConflict && code != http.StatusNotFound {
			t.Fatalf("old hash after the swap: %d %q, want 409 or 404", code, body)
		}
		t.Logf("old hash right after the swap: %d %q", code, strings.TrimSpace(string(body)))
		newHash, _, _, err := content.HashFile(path)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the swapped file to be re-hashed", func() bool {
			f, err := server.store.FileByHash(newHash)
			return err == nil && f.Path == "doc001 report.txt"
		})
		if _, err := server.store.FileByHash(docHash); err == nil {
			t.Errorf("old hash still in the catalog after the rescan")
		}
		if code, _, _ := c.do(ctx, "GET", "/f/"+doc.Hash, ""); code != http.StatusNotFound {
			t.Errorf("old hash after the rescan: %d, want 404", code)
		}
		code, body, err = c.do(ctx, "GET", "/f/"+newHash.String(), "")
		if err != nil || code != http.StatusOK || !bytes.Equal(body, swapped) {
			t.Errorf("new hash: %d %q %v, want 200 %q", code, body, err, swapped)
		}
		// The catalog changed by exactly that one entry.
		f, err := server.store.FileByHash(newHash)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(before[1])
		for i, line := range want {
			if strings.Contains(line, "|doc001 report.txt|") {
				want[i] = fmt.Sprintf("%s|%s|%d|%d|%s", f.Root, f.Path, f.Size, f.ModTime, f.Hash)
			}
		}
		slices.Sort(want)
		if got := catalog(t, server); !slices.Equal(got, want) {
			t.Errorf("catalog after the swap:\n got %v\nwant %v", got, want)
		}
		before[1] = want
		stillUp(t, server, client)
	})

	bigRes := find(t, client, "bigmap")
	bigReq := api.GetRequest{Hash: bigRes.Hash, Name: "bigmap.bin", Sources: bigRes.Sources}

	t.Run("read-only output directory", func(t *testing.T) {
		req := bigReq
		req.OutDir = mountTmpfs(t, "size=1m,ro")
		ev := getVia(t, client, req)
		if ev.Error == "" || !strings.Contains(ev.Error, "not writable") {
			t.Fatalf("get into a read-only dir: %+v, want an error saying not writable", ev)
		}
		t.Logf("read-only out dir: %s", ev.Error)
	})

	t.Run("disk full up front, then space freed", func(t *testing.T) {
		out := mountTmpfs(t, "size=2m")
		req := bigReq
		req.OutDir = out
		ev := getVia(t, client, req)
		if ev.Error == "" || !strings.Contains(ev.Error, "disk full") {
			t.Fatalf("get of 4 MiB into 2 MiB: %+v, want an error saying disk full", ev)
		}
		t.Logf("disk full: %s", ev.Error)
		if left, _ := os.ReadDir(out); len(left) != 0 {
			t.Fatalf("left in the output dir after a refused download: %v", left)
		}
		if o, err := exec.Command("mount", "-o", "remount,size=16m", out).CombinedOutput(); err != nil {
			t.Skipf("remount: %v: %s", err, o)
		}
		ev = getVia(t, client, req)
		if ev.Done == nil {
			t.Fatalf("get after freeing space: %+v", ev)
		}
		h, _, size, err := content.HashFile(ev.Done.Path)
		if err != nil {
			t.Fatal(err)
		}
		if h.String() != bigRes.Hash || size != bigSize {
			t.Errorf("after freeing space: hash %s size %d, want %s %d", h, size, bigRes.Hash, bigSize)
		}
		t.Logf("after remount: %s (%d bytes) in %.2fs, resumed=%v", ev.Done.Path, ev.Done.Size, ev.Done.Seconds, ev.Done.Resumed)
	})

	t.Run("data dir held by another servent", func(t *testing.T) {
		_, err := New(server.cfg, quiet(), "test")
		if !errors.Is(err, storage.ErrLocked) {
			t.Fatalf("New on a held data dir: %v, want ErrLocked", err)
		}
		t.Logf("second servent on the same data dir: %v", err)
		stillUp(t, server, client)
	})

	sameCatalogs(t, nodes, before)
}

func TestHostileDrillKey(t *testing.T) {
	o := clusterOptions{routing: "smart", leavesPerUltrapeer: 2, meshDegree: 4, ttl: 4}
	keyed := startNodes(t, 2, o, func(_ int, cfg *configs.Config) { cfg.Key = "correct horse battery staple" })
	waitUp(t, keyed, 20*time.Second)
	seed := keyed[0].ov.LocalAddr().String()
	before := catalogs(t, keyed)

	// Outsiders: one with a wrong key, one with none; both seeded with a
	// keyed member, so they also keep retrying in the background.
	var outsiders []*Daemon
	for i, key := range []string{"wrong key", ""} {
		cfg := testConfig(t, 10+i, o, seed)
		cfg.Key = key
		d, err := New(cfg, quiet(), "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		outsiders = append(outsiders, d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fileHash := find(t, keyed[1], "doc000").Hash

	for i, out := range outsiders {
		name := []string{"wrong key", "no key"}[i]
		t.Run(name, func(t *testing.T) {
			_, err := out.ov.Join([]string{seed}, overlay.ViaSeed)
			if !errors.Is(err, overlay.ErrDrillKey) || !strings.Contains(err.Error(), "wrong or missing drill key") {
				t.Errorf("join: %v, want an error wrapping ErrDrillKey", err)
			}
			t.Logf("outsider's join: %v", err)
			_, err = keyed[0].ov.Join([]string{out.ov.LocalAddr().String()}, overlay.ViaSeed)
			if !errors.Is(err, overlay.ErrDrillKey) {
				t.Errorf("member joining the outsider: %v, want ErrDrillKey", err)
			}

			// Datagrams: valid queries from the outsider. The query plane
			// rides QUIC connections that a member accepts only from a
			// member's key (the client certificate is checked after the
			// client's side of the handshake is done, so the outsider may
			// send a few before the connection is closed on it).
			c0 := routerCounters(keyed[0])
			for range 5 {
				sendFrom(t, out, keyed[0], query.PlaneByte, queryBytes(t, 3, 0, "doc000"))
			}
			time.Sleep(time.Second)
			if c := routerCounters(keyed[0]); c.Query.Received-c0.Query.Received >= 5 {
				t.Errorf("outsider queries reached the router (%d received)", c.Query.Received-c0.Query.Received)
			}

			// Download: TLS pinning refuses a key that no member publishes.
			c, err := dialH3(ctx, out, keyed[0])
			if err == nil {
				var code int
				code, _, err = c.do(ctx, "GET", "/f/"+fileHash, "")
				c.close()
				if err == nil {
					t.Errorf("outsider downloaded: status %d", code)
				}
			}
			t.Logf("outsider's download: %v", err)

			for _, d := range keyed {
				if n := d.ov.NumMembers(); n != len(keyed) {
					t.Errorf("%s sees %d members, want %d", d.ov.Name(), n, len(keyed))
				}
			}
			if n := out.ov.NumMembers(); n != 1 {
				t.Errorf("outsider sees %d members, want 1", n)
			}
			stillUp(t, keyed[0], keyed[1])
		})
	}
	sameCatalogs(t, keyed, before)
}

// FuzzHostileQueryDatagram feeds arbitrary query-plane payloads, as from a
// member, to a running node's datagram handler: it must never panic, and
// every datagram must be counted, either as malformed or as received.
func FuzzHostileQueryDatagram(f *testing.F) {
	var nodes []*Daemon
	var seed string
	for i := range 2 {
		d := fuzzNode(f, i, seed)
		seed = d.ov.LocalAddr().String()
		nodes = append(nodes, d)
	}
	target, from := nodes[0], nodes[1].ov.LocalAddr()
	deadline := time.Now().Add(20 * time.Second)
	for target.ov.NumMembers() != 2 || nodes[1].ov.NumMembers() != 2 {
		if time.Now().After(deadline) {
			f.Fatal("the two nodes did not meet within 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	enc := func(d *query.Descriptor) []byte {
		b, err := d.AppendMarshal(nil)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	q := enc(&query.Descriptor{Header: query.Header{GUID: newGUID(), Type: query.TypeQuery, TTL: 3}, Query: &query.Query{Criteria: "doc000 report"}})
	h := content.Hash{1, 2, 3}
	hq := enc(&query.Descriptor{Header: query.Header{GUID: newGUID(), Type: query.TypeQuery, TTL: 7}, Query: &query.Query{Criteria: "", Hash: h}})
	hit := enc(&query.Descriptor{Header: query.Header{GUID: newGUID(), Type: query.TypeQueryHit, TTL: 2}, Hit: sampleHit()})
	for _, b := range [][]byte{nil, {0}, q, hq, hit, q[:23], q[:len(q)-1], hit[:40], append(slices.Clone(q), 1), bytes.Repeat([]byte{0xFF}, 1199), bytes.Repeat([]byte{0x80}, 1451)} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sum := func() uint64 {
			c := routerCounters(target)
			return c.Malformed + c.Query.Received + c.QueryHit.Received
		}
		before := sum()
		target.onQueryDatagram(from, slices.Clone(b))
		if sum() == before {
			t.Errorf("datagram of %d bytes neither counted malformed nor received", len(b))
		}
	})
}

// fuzzNode starts node i (seeded by seed) for a fuzz target.
func fuzzNode(f *testing.F, i int, seed string) *Daemon {
	f.Helper()
	cfg, err := configs.Load("", nil)
	if err != nil {
		f.Fatal(err)
	}
	base := f.TempDir()
	cfg.Data = filepath.Join(base, "data")
	share := filepath.Join(base, "share")
	if err := os.MkdirAll(share, 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(share, fmt.Sprintf("doc%03d report.txt", i)), []byte("fuzz\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	cfg.Shares = []string{share}
	cfg.Listen = fmt.Sprintf("127.0.30.%d:0", 1+i)
	cfg.Name = fmt.Sprintf("fuzz%03d", i)
	cfg.Discovery = false
	if seed != "" {
		cfg.Seeds = []string{seed}
	}
	cfg.QueryRate = 1e6
	d, err := New(cfg, quiet(), "test")
	if err != nil {
		f.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { d.Close() })
	return d
}
