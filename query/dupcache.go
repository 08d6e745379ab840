package query

import "time"

// seenEntry remembers a query GUID: who sent it (the reverse path for its
// hits) or that this node originated it.
type seenEntry struct {
	from   PeerID
	at     int64 // unix nanoseconds of the virtual or real clock
	origin bool
	ttl    uint8 // highest TTL the query arrived with from from
	// answers counts, for an originated query that asked for answer marks,
	// the marked hit descriptors received per answering node (nil
	// otherwise).
	answers map[string]uint16
}

// dupCache is a two-generation map GUID → seenEntry, bounded in entries
// (at most size) and age (an entry older than age is absent). When the current
// generation holds size/2 entries or is older than age, it becomes the old
// generation and the previous old one is discarded. Maps are allocated on
// first use, so an idle router holds none.
type dupCache struct {
	size     int
	age      int64
	cur, old map[GUID]seenEntry
	curStart int64
}

func newDupCache(size int, age time.Duration) dupCache {
	return dupCache{size: max(size, 2), age: int64(age)}
}

func (c *dupCache) lookup(g GUID, now int64) (seenEntry, bool) {
	e, ok := c.cur[g]
	if !ok {
		e, ok = c.old[g]
	}
	if !ok || now-e.at >= c.age || now < e.at-c.age {
		return seenEntry{}, false
	}
	return e, true
}

func (c *dupCache) insert(g GUID, e seenEntry) {
	switch {
	case c.cur == nil:
		c.curStart = e.at
	case e.at-c.curStart >= 2*c.age:
		c.cur, c.old = nil, nil
		c.curStart = e.at
	case len(c.cur) >= c.size/2 || e.at-c.curStart >= c.age:
		c.old, c.cur = c.cur, nil
		c.curStart = e.at
	}
	if c.cur == nil {
		c.cur = make(map[GUID]seenEntry)
	}
	c.cur[g] = e
}

// update replaces the entry of g, if present, keeping its generation.
func (c *dupCache) update(g GUID, e seenEntry) {
	if _, ok := c.cur[g]; ok {
		c.cur[g] = e
	} else if _, ok := c.old[g]; ok {
		c.old[g] = e
	}
}

func (c *dupCache) len() int { return len(c.cur) + len(c.old) }
