package daemon

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/browse"
	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/content"
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/ultrapeer"
)

func TestPlanFolder(t *testing.T) {
	h := func(b byte) string { return content.Hash{b}.String() }
	l := api.Listing{Peer: api.Source{Name: "alice"}, Folder: "maps", Files: []api.ListedFile{
		{Path: "maps/a.txt", Size: 1, Hash: h(1)},
		{Path: "maps/A.TXT", Size: 1, Hash: h(2)},       // clashes case-insensitively
		{Path: "maps/sub/b.txt", Size: 1, Hash: h(3)},   //
		{Path: "maps/sub", Size: 1, Hash: h(4)},         // a file where a folder is needed
		{Path: "maps/x/../../etc/passwd", Hash: h(5)},   // escapes
		{Path: "maps/.git/config", Size: 2, Hash: h(6)}, // hidden: made visible
		{Path: "maps/con/\x1b[2Jz.txt", Hash: h(7)},     // device name, escape
		{Path: "maps/copy.txt", Size: 1, Hash: h(1)},    // same content as a.txt
		{Path: "maps/\r\n/c", Hash: h(8)},               // nothing left of a component
		{Path: "other/evil.txt", Hash: h(9)},            // outside the folder
		{Path: "maps/bad-hash.txt", Hash: "not-a-hash"}, //
		{Path: "maps/sub/deeper/d.txt", Size: 1, Hash: h(10)},
	}}
	plan, skipped := planFolder(l)
	var rels []string
	for _, f := range plan {
		rels = append(rels, f.rel)
	}
	want := []string{"a.txt", "sub/b.txt", "git/config", "_con/[2Jz.txt", "copy.txt", "sub/deeper/d.txt"}
	if !slices.Equal(rels, want) {
		t.Errorf("planned %q, want %q", rels, want)
	}
	if plan[4].dup != 0 || plan[0].dup != -1 {
		t.Errorf("duplicate content: dups %d %d", plan[0].dup, plan[4].dup)
	}
	if len(skipped) != 6 || !slices.Contains(skipped, `maps/\r\n/c`) {
		t.Errorf("skipped %q", skipped)
	}
	if got := l.RootName(); got != "maps" {
		t.Errorf("root name %q", got)
	}
	if got := (api.Listing{Peer: api.Source{Name: "../.evil\x1b"}}).RootName(); got != "_.evil" {
		t.Errorf("root name of a hostile peer: %q", got)
	}
}

// TestBrowseMembersOnly: with a drill key a member browses another by
// name and by key prefix; an outsider's browse connection is refused.
func TestBrowseMembersOnly(t *testing.T) {
	o := clusterOptions{routing: "smart", leavesPerUltrapeer: 2, meshDegree: 4, ttl: 4}
	keyed := startNodes(t, 2, o, func(_ int, cfg *configs.Config) { cfg.Key = "correct horse battery staple" })
	waitUp(t, keyed, 20*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	other := keyed[1].ov.Name()
	eventually(t, 20*time.Second, "node001's share to be indexed", func() bool { return len(keyed[1].browser.listing("")) > 0 })
	for _, peer := range []string{other, keyed[1].ov.Fingerprint().String()[:6]} {
		l, err := keyed[0].browser.browse(ctx, peer, "")
		if err != nil || l.Peer.Name != other || !slices.ContainsFunc(l.Files, func(f api.ListedFile) bool { return f.Path == "doc001 report.txt" }) {
			t.Errorf("browse %q: %+v, %v", peer, l, err)
		}
	}
	if _, err := keyed[0].browser.browse(ctx, "nobody", ""); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("unknown peer: %v", err)
	}

	cfg := testConfig(t, 12, o, keyed[0].ov.LocalAddr().String())
	cfg.Key = "wrong key"
	out := startOne(t, cfg)
	conn, err := out.ov.DialPinned(ctx, keyed[1].ov.LocalAddr(), keyed[1].ov.Fingerprint(), browse.ALPN)
	if err == nil {
		var files []browse.Entry
		if s, serr := conn.OpenStreamSync(ctx); serr == nil {
			browse.WriteRequest(s, browse.Request{})
			s.Close()
			files, err = browse.ReadListing(s)
		} else {
			err = serr
		}
		conn.CloseWithError(0, "")
		if err == nil {
			t.Fatalf("an outsider browsed %d files", len(files))
		}
	}
	t.Logf("outsider refused: %v", err)
}

// startOne starts a daemon with cfg, closed at cleanup.
func startOne(tb testing.TB, cfg configs.Config) *Daemon {
	tb.Helper()
	d, err := New(cfg, quiet(), "test")
	if err != nil {
		tb.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// TestFindMember: a peer is named by its exact name, a key prefix of 4
// hex digits or more, or a name prefix, each only when one member matches.
func TestFindMember(t *testing.T) {
	member := func(name string, key byte) overlay.Member {
		m := overlay.Member{Name: name}
		m.Meta.Fingerprint[0], m.Meta.Fingerprint[1] = key, 0xcd
		return m
	}
	members := []overlay.Member{member("alpha", 0xab), member("alpha-2", 0xac), member("beta", 0xbe), member("Gamma", 0xab)}
	tests := []struct{ peer, want, wantErr string }{
		{"alpha", "alpha", ""},          // exact, though alpha-2 starts so
		{"alpha-", "alpha-2", ""},       // name prefix
		{"gam", "Gamma", ""},            // any case
		{"beCD", "beta", ""},            // key prefix, any case
		{"becd0000", "beta", ""},        // longer key prefix
		{"be", "beta", ""},              // too short for a key: a name prefix
		{"abcd", "", "matches 2 peers"}, // alpha's and Gamma's key
		{"al", "", "matches 2 peers"},
		{"delta", "", "no member is called"},
		{"", "", "name a peer"},
	}
	for _, tt := range tests {
		m, err := findMember(members, tt.peer)
		switch {
		case tt.wantErr == "" && (err != nil || m.Name != tt.want):
			t.Errorf("%q: %q, %v; want %q", tt.peer, m.Name, err, tt.want)
		case tt.wantErr != "" && (!errors.Is(err, ErrUnknownPeer) || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: %q, %v; want an error with %q", tt.peer, m.Name, err, tt.wantErr)
		}
	}
}

// fakeBrowseNet is an overlay of fixed members that cannot dial.
type fakeBrowseNet struct {
	name    string
	members []overlay.Member
	dialled []string
}

func (n *fakeBrowseNet) Name() string              { return n.name }
func (n *fakeBrowseNet) Members() []overlay.Member { return n.members }
func (n *fakeBrowseNet) DialPinned(_ context.Context, addr netip.AddrPort, _ overlay.Fingerprint, _ string) (*quic.Conn, error) {
	n.dialled = append(n.dialled, addr.String())
	return nil, errors.New("no route")
}

// TestBrowser: browsing this node lists its own catalog below the folder
// (no network); another member is dialled at its address; a failed dial
// says that old servents cannot be browsed.
func TestBrowser(t *testing.T) {
	net := &fakeBrowseNet{name: "self", members: []overlay.Member{
		{Name: "self", Addr: netip.MustParseAddrPort("127.0.0.1:1")},
		{Name: "other", Addr: netip.MustParseAddrPort("127.0.0.2:2")},
	}}
	own := []ultrapeer.Entry{{Path: "maps/a.txt", Size: 1, Hash: content.Hash{1}}, {Path: "notes.txt", Size: 2, Hash: content.Hash{2}}}
	b := newBrowser(net, func() []ultrapeer.Entry { return own }, quiet())
	l, err := b.browse(t.Context(), "self", `\maps/`)
	if err != nil || l.Folder != "maps" || l.Peer.Name != "self" || len(l.Files) != 1 || l.Files[0].Path != "maps/a.txt" || l.Files[0].Hash != own[0].Hash.String() {
		t.Errorf("own listing %+v, %v", l, err)
	}
	_, err = b.browse(t.Context(), "oth", "")
	if err == nil || !strings.Contains(err.Error(), "cannot be browsed") || !slices.Equal(net.dialled, []string{"127.0.0.2:2"}) {
		t.Errorf("browsing an unreachable member: %v, dialled %v", err, net.dialled)
	}
	if _, err := b.browse(t.Context(), "nobody", ""); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("unknown peer: %v", err)
	}
}
