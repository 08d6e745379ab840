package daemon

import "sync"

// leafConns tracks the index connection of each registered leaf, so that
// a session ending drops the leaf's index only if no newer session holds
// it, and so that an ultrapeer stepping down can close them all. Safe for
// concurrent use; the zero value is empty.
type leafConns struct {
	mu     sync.Mutex
	byLeaf map[string]leafConn
	n      uint64
}

type leafConn struct {
	gen   uint64
	close func(reason string) // closes the connection, telling the leaf why
}

// begin records a new session of leaf id, closed by closeConn, and
// returns its generation.
func (c *leafConns) begin(id string, closeConn func(reason string)) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byLeaf == nil {
		c.byLeaf = make(map[string]leafConn)
	}
	c.n++
	c.byLeaf[id] = leafConn{gen: c.n, close: closeConn}
	return c.n
}

// end reports whether gen was the leaf's latest session.
func (c *leafConns) end(id string, gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byLeaf[id].gen != gen {
		return false
	}
	delete(c.byLeaf, id)
	return true
}

// close closes one leaf's index connection.
func (c *leafConns) close(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if lc, ok := c.byLeaf[id]; ok {
		lc.close("left the network")
	}
}

// closeAll closes every leaf's index connection: the leaves see it at once
// and attach elsewhere.
func (c *leafConns) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, lc := range c.byLeaf {
		lc.close("no longer an ultrapeer")
	}
}
