package ultrapeer

import (
	"runtime"
	"slices"
	"sync"
)

// Assign attaches each leaf to k ultrapeers without any ultrapeer holding
// more than maxLeaves (maxLeaves < 1: no cap), by deferred acceptance over
// rendezvous weights:
//
//   - each leaf asks the ultrapeers in its rendezvous order (Attach),
//     skipping those refused(leaf, ultrapeer) rules out (nil: none), until
//     k hold it or it has asked them all;
//   - an ultrapeer under its cap holds every leaf that asks; at its cap it
//     keeps the leaves of largest Weight(leaf, ultrapeer) (ties by ID) and
//     turns the lightest away, which then asks its next ultrapeer.
//
// Where no cap binds, each leaf gets Attach(leaf, ultrapeers, k) exactly:
// a joining or leaving leaf moves nobody else, an ultrapeer leaving moves
// only its own leaves. Where one binds, the lightest leaves of that
// ultrapeer move down their own order, as a refused leaf does. With at
// least ElectionConfig.Count ultrapeers every leaf gets min(k, ultrapeers).
//
// attach maps every leaf to its ultrapeers in its rendezvous order
// (heaviest first; empty when none); held maps every ultrapeer to its
// leaves, sorted. Deterministic: the same arguments give the same result
// on every machine. The first preferences are computed on all CPUs for
// large inputs (the goroutines end before Assign returns); otherwise pure.
// Safe for concurrent use when refused is.
func Assign(leaves, ultrapeers []string, k, maxLeaves int, refused func(leaf, ultrapeer string) bool) (attach, held map[string][]string) {
	return assign(leaves, ultrapeers, k, maxLeaves, refused, nil)
}

// assign is Assign taking the leaves' first rendezvous orders from orders
// where it has them, and keeping there the ones it computes (nil: compute
// them all, keep none).
func assign(leaves, ultrapeers []string, k, maxLeaves int, refused func(leaf, ultrapeer string) bool, orders *orderCache) (attach, held map[string][]string) {
	st := make([]suitor, len(leaves))
	index := make(map[string]int, len(leaves))
	for i, l := range leaves {
		index[l] = i
		st[i] = suitor{id: l, want: k + 2}
	}
	if k > 0 {
		orders.fill(st, ultrapeers, k+2)
	}
	holds := make(map[string][]weighted, len(ultrapeers))
	queue := make([]int, len(leaves))
	for i := range queue {
		queue[i] = i
	}
	for len(queue) > 0 {
		s := &st[queue[0]]
		queue = queue[1:]
		for s.count < k {
			u, ok := s.next(ultrapeers, refused)
			if !ok {
				break
			}
			c := weighted{Weight(s.id, u), s.id}
			h := holds[u]
			if maxLeaves < 1 || len(h) < maxLeaves {
				holds[u] = append(h, c)
				s.count++
				continue
			}
			j := lightest(h)
			if heavier(c, h[j]) < 0 {
				out := index[h[j].id]
				h[j] = c
				s.count++
				st[out].count--
				queue = append(queue, out)
			}
		}
	}
	return assignment(leaves, ultrapeers, holds)
}

// assignment turns what each ultrapeer holds into Assign's two maps: every
// leaf's ultrapeers, heaviest first, and every ultrapeer's leaves, sorted.
func assignment(leaves, ultrapeers []string, holds map[string][]weighted) (attach, held map[string][]string) {
	attach = make(map[string][]string, len(leaves))
	for _, l := range leaves {
		attach[l] = nil
	}
	held = make(map[string][]string, len(ultrapeers))
	for _, u := range ultrapeers {
		h := holds[u]
		ids := make([]string, len(h))
		for i, c := range h {
			ids[i] = c.id
			attach[c.id] = append(attach[c.id], u)
		}
		slices.Sort(ids)
		held[u] = ids
	}
	for l, ups := range attach {
		slices.SortFunc(ups, func(a, b string) int {
			return heavier(weighted{Weight(l, a), a}, weighted{Weight(l, b), b})
		})
	}
	return attach, held
}

// suitor is one leaf during Assign: its rendezvous order so far, how far it
// has asked, and how many ultrapeers hold it.
type suitor struct {
	id    string
	order []string // Attach(id, ultrapeers, want)
	want  int
	asked int
	count int
}

// next returns the next ultrapeer the leaf asks, extending its order when
// it runs out, or false when it has asked them all.
func (s *suitor) next(ultrapeers []string, refused func(leaf, ultrapeer string) bool) (string, bool) {
	for {
		if s.asked == len(s.order) {
			if len(s.order) < s.want {
				return "", false // the whole set was seen
			}
			s.want *= 2
			s.order = Attach(s.id, ultrapeers, s.want)
			continue
		}
		u := s.order[s.asked]
		s.asked++
		if refused == nil || !refused(s.id, u) {
			return u, true
		}
	}
}

// firstOrders fills the first order of the suitors st[i] for i in todo, on
// all CPUs when there are many (each suitor's slot is its own: the result
// does not depend on scheduling).
func firstOrders(st []suitor, todo []int, ultrapeers []string) {
	workers := 1
	if len(todo)*len(ultrapeers) > 1<<20 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := w; j < len(todo); j += workers {
				s := &st[todo[j]]
				s.order = Attach(s.id, ultrapeers, s.want)
			}
		})
	}
	wg.Wait()
}

// lightest returns the index of the lightest of h (non-empty).
func lightest(h []weighted) int {
	j := 0
	for i := 1; i < len(h); i++ {
		if heavier(h[i], h[j]) > 0 {
			j = i
		}
	}
	return j
}
