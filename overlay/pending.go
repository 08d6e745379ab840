package overlay

import "sync"

// maxPendingPerPeer bounds the datagrams held for one peer while its path
// is probed; more are dropped and counted.
const maxPendingPerPeer = 64

// pendingQueue holds datagrams for peers without a verified path yet.
type pendingQueue struct {
	mu sync.Mutex
	q  map[NodeID][][]byte
}

func (n *Node) holdPending(id NodeID, msg []byte) {
	n.pending.mu.Lock()
	defer n.pending.mu.Unlock()
	if n.pending.q == nil {
		n.pending.q = make(map[NodeID][][]byte)
	}
	if len(n.pending.q[id]) >= maxPendingPerPeer {
		n.stats.droppedNoPath.Add(1)
		return
	}
	n.pending.q[id] = append(n.pending.q[id], msg)
}

func (n *Node) takePending(id NodeID) [][]byte {
	n.pending.mu.Lock()
	defer n.pending.mu.Unlock()
	q := n.pending.q[id]
	delete(n.pending.q, id)
	return q
}

// dropPending drops what waited for id: no connection could be made.
func (n *Node) dropPending(id NodeID) {
	n.stats.droppedNoPath.Add(uint64(len(n.takePending(id))))
}
