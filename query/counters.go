package query

// DropReason says why the Router dropped a descriptor.
type DropReason uint8

// Drop reasons. DropMalformed is counted by the caller (CountMalformed),
// since malformed input never becomes a Descriptor.
const (
	DropNone            DropReason = iota
	DropDuplicate                  // query (type, GUID) already seen within the cache age
	DropTTL                        // TTL 0, TTL+hops above MaxTTL, or TTL exhausted on a hit's way back
	DropMalformed                  // undecodable, or type and payload disagree
	DropRateLimited                // an origin (a leaf, or a peer's own query) exceeded its query rate
	DropNonMember                  // from, or toward, a peer that is not a current member
	DropUnknownGUID                // a hit whose query this node never routed (or forgot)
	DropUnexpected                 // a query reaching a leaf in smart mode, or a hit from a peer the query was not sent to
	DropNoRoute                    // an originated query with nobody to send it to
	DropLinkRateLimited            // a neighbour forwarded more than the network's expected load
)

var dropNames = [...]string{"none", "duplicate", "ttl", "malformed", "rate_limited", "non_member", "unknown_guid", "unexpected", "no_route", "link_rate_limited"}

// String names the reason as used in metrics.
func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return "unknown"
}

// Drops counts dropped descriptors by reason.
type Drops struct {
	Duplicate   uint64 `json:"duplicate"`
	TTL         uint64 `json:"ttl"`
	RateLimited uint64 `json:"rate_limited"`
	NonMember   uint64 `json:"non_member"`
	UnknownGUID uint64 `json:"unknown_guid"`
	Unexpected  uint64 `json:"unexpected"`
	NoRoute     uint64 `json:"no_route"`
	// LinkRateLimited: forwarded queries over a neighbour link's limit
	// (Router.SetLinkLimit); RateLimited: queries over their origin's.
	LinkRateLimited uint64 `json:"link_rate_limited"`
}

// TypeCounters counts one payload type.
type TypeCounters struct {
	// Sent counts every descriptor in Outbounds (originated, answered, forwarded).
	Sent uint64 `json:"sent"`
	// Received counts every descriptor passed to Handle.
	Received uint64 `json:"received"`
	// Forwarded counts relayed copies (one per recipient).
	Forwarded uint64 `json:"forwarded"`
	// Originated counts queries started here (Originate) or hit descriptors
	// produced here from the local index.
	Originated uint64 `json:"originated"`
	// Delivered counts hits delivered to this node's own searches; for
	// queries, queries the local index answered with at least one hit.
	Delivered uint64 `json:"delivered"`
	Dropped   Drops  `json:"dropped"`
}

// Counters is a snapshot of the Router's counters.
type Counters struct {
	Query    TypeCounters `json:"query"`
	QueryHit TypeCounters `json:"query_hit"`
	// Malformed counts datagrams the caller could not decode (CountMalformed).
	Malformed uint64 `json:"malformed"`
	// Dynamic counts dynamic queries (DynamicConfig).
	Dynamic DynamicCounters `json:"dynamic"`
}

// DynamicCounters counts the dynamic queries an ultrapeer ran, and why
// each ended.
type DynamicCounters struct {
	Started uint64 `json:"started"`
	// Satisfied: enough results; Exhausted: every neighbour queried;
	// Expired: DynamicConfig.MaxAge reached.
	Satisfied uint64 `json:"satisfied"`
	Exhausted uint64 `json:"exhausted"`
	Expired   uint64 `json:"expired"`
}

func (d *Drops) add(r DropReason) {
	switch r {
	case DropDuplicate:
		d.Duplicate++
	case DropTTL:
		d.TTL++
	case DropRateLimited:
		d.RateLimited++
	case DropNonMember:
		d.NonMember++
	case DropUnknownGUID:
		d.UnknownGUID++
	case DropUnexpected:
		d.Unexpected++
	case DropNoRoute:
		d.NoRoute++
	case DropLinkRateLimited:
		d.LinkRateLimited++
	}
}
