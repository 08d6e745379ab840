package overlay

import (
	"bytes"
	"math/rand/v2"
	"time"
)

// A metadata change reaches the other members by gossip (memberlist
// UpdateNode: an alive message with a higher incarnation, sent
// RetransmitMult*log10(n+1) times - 4 times in a network of up to 9).
// Gossip can miss members: lost or starved packets, and memberlist
// v0.7.0's broadcast queue, which silently drops a queued broadcast when
// an update replaced the only other one and a later broadcast of the same
// length takes its place (hashicorp/memberlist pull requests 263 and 322,
// unmerged): a node that changes its role twice before its first gossip
// round is then never heard. Nothing repaired that before the next
// periodic push/pull (30 s, longer above 32 members), and the planners of
// the members that missed it, taking the role as incumbency, planned
// another topology meanwhile. So after a change the planners read, the
// node also pushes its whole state over a stream to announcePeers random
// members (memberlist's push/pull, as a join does); each merges it and
// gossips the news on with its own retransmissions.
const (
	// announcePeers is how many members a change is pushed to.
	announcePeers = 2
	// announceDelay lets a burst of changes (a role change and the share
	// count) coalesce into one push. The retries while the node is alone
	// or every push failed back off from it to announceMaxDelay.
	announceDelay    = 500 * time.Millisecond
	announceMaxDelay = 30 * time.Second
)

// changedBeyondShares reports whether metadata b differs from a in more
// than the share count: in what the planners and paths read.
func changedBeyondShares(a, b Meta) bool {
	a.Shares, b.Shares = 0, 0
	return !bytes.Equal(EncodeMeta(a), EncodeMeta(b))
}

// announceLoop pushes the node's state to announcePeers random members
// announceDelay after each signalled metadata change, retrying while the
// node is alone (a join under way may have sent the old metadata) or no
// push succeeds.
func (n *Node) announceLoop() {
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.announce:
		}
		for wait := announceDelay; ; wait = min(2*wait, announceMaxDelay) {
			if !n.sleep(wait) {
				return
			}
			if n.pushMeta() {
				break
			}
		}
	}
}

// pushMeta pushes the node's state to up to announcePeers random alive
// members, those with a memberlist connection open first (no handshake,
// no new connection to keep), and reports whether one took it.
func (n *Node) pushMeta() bool {
	var connected, others []string
	for _, m := range n.Members() {
		switch {
		case m.Name == n.name || m.State != StateAlive:
		case n.mlt.cached(memberID(m)) != nil:
			connected = append(connected, m.Addr.String())
		default:
			others = append(others, m.Addr.String())
		}
	}
	shuffle := func(s []string) { rand.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] }) }
	shuffle(connected)
	shuffle(others)
	peers := append(connected, others...)
	peers = peers[:min(len(peers), announcePeers)]
	if len(peers) == 0 {
		return false
	}
	c, err := n.ml.Join(peers)
	if err != nil {
		n.log.Debug("pushing metadata", "pushed", c, "of", len(peers), "err", err)
	}
	return c > 0
}
