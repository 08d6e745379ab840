package query

import "fmt"

// SplitHits splits h into as few QueryHits as needed so that each, once
// wrapped in a descriptor, is at most limit bytes (header included; pass
// MaxDescriptor) and carries at most 255 results. Parts share h's trailer
// fields and sub-slices of h.Results (nothing is copied). A single result too
// large to fit alone is ErrTooLong. A hit set with no results yields none.
func SplitHits(h *QueryHit, limit int) ([]*QueryHit, error) {
	base := HeaderLen + hitFixedLen + h.trailerLen()
	if len(h.Results) == 0 {
		return nil, nil
	}
	if h.encodedLen()+HeaderLen <= limit && len(h.Results) <= 255 {
		return []*QueryHit{h}, nil
	}
	var parts []*QueryHit
	start, size := 0, base
	for i := range h.Results {
		rl := h.Results[i].encodedLen()
		if base+rl > limit {
			return nil, fmt.Errorf("result %.32q needs %d bytes: %w", h.Results[i].Name, base+rl, ErrTooLong)
		}
		if size+rl > limit || i-start == 255 {
			parts = append(parts, h.part(start, i))
			start, size = i, base
		}
		size += rl
	}
	return append(parts, h.part(start, len(h.Results))), nil
}

func (h *QueryHit) part(from, to int) *QueryHit {
	p := *h
	p.Results = h.Results[from:to:to]
	return &p
}
