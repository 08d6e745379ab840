package ultrapeer

import "errors"

// Handle applies an update received from owner (the content of a Register
// or Update frame) and returns the frame to answer with: *Ack with the
// owner's registered version on success (and the entries its Budget left
// out), a retry already applied included;
// otherwise *Refuse — RefuseFull carrying try (compute it with
// TryUltrapeers), RefuseVersionGap (the leaf resends its full index) or
// RefuseBadUpdate. Safe for concurrent use; never blocks on I/O.
func (r *Registry) Handle(owner Owner, u Update, try []string) Message {
	res, err := r.apply(owner, u, false)
	switch {
	case err == nil:
		return &Ack{Version: res.Version, Dropped: uint64(res.Dropped)}
	case errors.Is(err, ErrFull):
		return &Refuse{Reason: RefuseFull, TryUltrapeers: try[:min(len(try), MaxTryUltrapeers)]}
	case errors.Is(err, ErrVersionGap):
		return &Refuse{Reason: RefuseVersionGap}
	default:
		return &Refuse{Reason: RefuseBadUpdate}
	}
}
