package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/browse"
	"github.com/servent-p2p/servent/internal/names"
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/ultrapeer"
)

// Browse limits.
const (
	// maxBrowsing is how many listings this node builds at once for
	// peers; a request beyond gets a "busy" refusal.
	maxBrowsing = 2
	// browseRequestWait bounds the wait for a browse request on an
	// accepted connection, browseTimeout a whole browse (default).
	browseRequestWait = 5 * time.Second
	browseTimeout     = 30 * time.Second
	// minFingerprintPrefix is the fewest hex digits that name a peer by key.
	minFingerprintPrefix = 4
)

// ErrUnknownPeer: no member matches the name or key prefix given.
var ErrUnknownPeer = errors.New("no such peer")

// browseNet is what a browser needs from the overlay (overlay.Node).
type browseNet interface {
	Name() string
	Members() []overlay.Member
	DialPinned(ctx context.Context, addr netip.AddrPort, expect overlay.Fingerprint, proto string) (*quic.Conn, error)
}

var _ browseNet = (*overlay.Node)(nil)

// browser answers members' browse requests and asks members for theirs
// (browse.ALPN). Safe for concurrent use.
type browser struct {
	net     browseNet
	entries func() []ultrapeer.Entry // the own catalog, as indexed
	busy    chan struct{}            // listings being built for peers (maxBrowsing)
	log     *slog.Logger
}

func newBrowser(net browseNet, entries func() []ultrapeer.Entry, log *slog.Logger) *browser {
	return &browser{net: net, entries: entries, busy: make(chan struct{}, maxBrowsing), log: log}
}

// serveBrowseConn hands a browse connection to the browser.
func (d *Daemon) serveBrowseConn(conn *quic.Conn) { d.browser.serveConn(d.ctx, conn) }

// listing is the local catalog below folder as browse entries (one per
// share-relative path, as the index has them).
func (b *browser) listing(folder string) []browse.Entry {
	entries := b.entries()
	out := make([]browse.Entry, len(entries))
	for i, e := range entries {
		out[i] = browse.Entry{Path: e.Path, Size: e.Size, Hash: e.Hash}
	}
	return browse.Under(out, folder)
}

// serveConn answers one member's browse request (the overlay admitted
// it: with a drill key only members get here). It blocks until the
// member has read the listing, browseTimeout, or ctx ends.
func (b *browser) serveConn(ctx context.Context, conn *quic.Conn) {
	defer conn.CloseWithError(0, "")
	reqCtx, cancel := context.WithTimeout(ctx, browseRequestWait)
	defer cancel()
	stream, err := conn.AcceptStream(reqCtx)
	if err != nil {
		return
	}
	defer stream.Close()
	stream.SetDeadline(time.Now().Add(browseTimeout))
	req, err := browse.ReadRequest(stream)
	if err != nil {
		b.log.Debug("browse request", "peer", conn.RemoteAddr(), "err", err)
		stream.CancelRead(0)
		return
	}
	select {
	case b.busy <- struct{}{}:
		defer func() { <-b.busy }()
	default:
		browse.WriteRefusal(stream, "busy listing its shares for other peers: try again in a moment")
		return
	}
	if err := browse.WriteListing(stream, b.listing(req.Folder)); err != nil {
		b.log.Debug("browse answer", "peer", conn.RemoteAddr(), "err", err)
		return
	}
	// Closing the connection now would discard what is still in flight:
	// the client closes it once it has read the listing.
	stream.Close()
	wait := time.NewTimer(browseTimeout)
	defer wait.Stop()
	select {
	case <-conn.Context().Done():
	case <-wait.C:
	case <-ctx.Done():
	}
}

// findMember resolves a peer among members as `servent peers` shows it:
// its exact name, the start of its key's fingerprint (4 hex digits or
// more), or the start of its name, each only when one member matches.
func findMember(members []overlay.Member, peer string) (overlay.Member, error) {
	if peer == "" {
		return overlay.Member{}, fmt.Errorf("%w: name a peer (see `servent peers`)", ErrUnknownPeer)
	}
	for _, m := range members {
		if m.Name == peer {
			return m, nil
		}
	}
	lower := strings.ToLower(peer)
	match := func(ok func(overlay.Member) bool) ([]overlay.Member, []string) {
		var found []overlay.Member
		var shown []string
		for _, m := range members {
			if ok(m) {
				found = append(found, m)
				shown = append(shown, names.Display(m.Name))
			}
		}
		return found, shown
	}
	tries := []func(overlay.Member) bool{
		func(m overlay.Member) bool {
			return len(lower) >= minFingerprintPrefix && strings.Trim(lower, "0123456789abcdef") == "" &&
				strings.HasPrefix(m.Meta.Fingerprint.String(), lower)
		},
		func(m overlay.Member) bool { return strings.HasPrefix(strings.ToLower(m.Name), lower) },
	}
	for _, ok := range tries {
		switch found, shown := match(ok); len(found) {
		case 0:
		case 1:
			return found[0], nil
		default:
			return overlay.Member{}, fmt.Errorf("%w: %q matches %d peers (%s); give more of the name or key", ErrUnknownPeer, names.Display(peer), len(found), strings.Join(shown, ", "))
		}
	}
	return overlay.Member{}, fmt.Errorf("%w: no member is called %q or has a key starting so (see `servent peers`)", ErrUnknownPeer, names.Display(peer))
}

// sourceOf is a member as a download source.
func sourceOf(m overlay.Member) api.Source {
	return api.Source{Name: m.Name, Addr: m.Addr.String(), Fingerprint: m.Meta.Fingerprint.String()}
}

// browse asks peer (see findMember) for its files below folder: over a
// pinned connection with browse.ALPN, or from the own catalog when peer
// is this node. Blocks until the answer or ctx ends.
func (b *browser) browse(ctx context.Context, peer, folder string) (api.Listing, error) {
	m, err := findMember(b.net.Members(), peer)
	if err != nil {
		return api.Listing{}, err
	}
	folder = browse.CleanFolder(folder)
	out := api.Listing{Peer: sourceOf(m), Folder: folder}
	var files []browse.Entry
	if m.Name == b.net.Name() {
		files = b.listing(folder)
	} else if files, err = b.fetchListing(ctx, m, folder); err != nil {
		return out, err
	}
	out.Files = make([]api.ListedFile, len(files))
	for i, f := range files {
		out.Files[i] = api.ListedFile{Path: f.Path, Size: f.Size, Hash: f.Hash.String()}
	}
	return out, nil
}

// fetchListing runs the client side of a browse.
func (b *browser) fetchListing(ctx context.Context, m overlay.Member, folder string) ([]browse.Entry, error) {
	who := names.Display(m.Name)
	conn, err := b.net.DialPinned(ctx, m.Addr, m.Meta.Fingerprint, browse.ALPN)
	if err != nil {
		return nil, fmt.Errorf("browse %s: %w (servents older than this one cannot be browsed)", who, err)
	}
	defer conn.CloseWithError(0, "")
	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("browse %s: %w", who, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		stream.SetDeadline(dl)
	}
	if err := browse.WriteRequest(stream, browse.Request{Folder: folder}); err != nil {
		return nil, fmt.Errorf("browse %s: %w", who, err)
	}
	stream.Close() // our side is done
	files, err := browse.ReadListing(stream)
	if err != nil {
		return nil, fmt.Errorf("browse %s: %w", who, err)
	}
	files = browse.Under(files, folder) // a peer may send more than asked
	return files, nil
}
