package role

import "fmt"

// Role is a node's role in the hierarchy. Its values are the role byte of
// the node metadata (docs/PROTOCOL.md section 10): the list is append-only.
type Role uint8

// Roles.
const (
	// None: no role yet (published before the first election), or, as a
	// forced role, none forced: the election decides (role: auto).
	None Role = iota
	// Leaf: attaches to ultrapeers and sends its queries to them.
	Leaf
	// Ultrapeer: holds leaves' indexes and floods queries in the mesh.
	Ultrapeer
	// Flood: a node of a flood-routed network (Gnutella 0.4).
	Flood
)

// String returns "none", "leaf", "ultrapeer", "flood", or "role(N)" for a
// value this version does not know.
func (r Role) String() string {
	switch r {
	case None:
		return "none"
	case Leaf:
		return "leaf"
	case Ultrapeer:
		return "ultrapeer"
	case Flood:
		return "flood"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Parse reads the configuration key `role`: "auto" is None, the election
// decides; "leaf" and "ultrapeer" force that role.
func Parse(s string) (Role, error) {
	switch s {
	case "auto":
		return None, nil
	case "leaf":
		return Leaf, nil
	case "ultrapeer":
		return Ultrapeer, nil
	}
	return None, fmt.Errorf("role %q: want auto, leaf or ultrapeer", s)
}
