package web

import (
	"sync"

	"github.com/servent-p2p/servent/api"
)

// recentResults remembers the results of recent page searches by hash, so
// a download can hand their sources and name to Backend.Fetch. Bounded:
// when full it starts over. Safe for concurrent use.
type recentResults struct {
	max int

	mu     sync.Mutex
	byHash map[string]api.Result
}

func newRecentResults(max int) *recentResults {
	return &recentResults{max: max, byHash: make(map[string]api.Result)}
}

// add records results.
func (c *recentResults) add(rs []api.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rs {
		if len(c.byHash) >= c.max {
			clear(c.byHash)
		}
		c.byHash[r.Hash] = r
	}
}

// get returns the result last seen for hash.
func (c *recentResults) get(hash string) (api.Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.byHash[hash]
	return r, ok
}
