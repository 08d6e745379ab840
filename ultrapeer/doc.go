// Package ultrapeer owns the hierarchy logic of a servent network, as pure
// code: no sockets, no goroutines, no clock (times and durations are passed
// in), so that the daemon and the discrete-event simulator run the very
// same functions.
//
//   - plan.go: NewPlan, the one topology planner: from a membership view
//     and a PlanConfig, the roles, the mesh and every leaf's ultrapeers.
//     The daemon, the simulator and the tests that check convergence all
//     use it; nothing else decides topology.
//   - election.go: Elect derives the ultrapeer set from a membership view
//     (Score, CapacityScore, ElectionConfig.Count).
//   - assign.go: Assign, the leaves' attachments under the leaf cap.
//   - attach.go: Attach picks a leaf's ultrapeers by rendezvous hashing
//     (AttachWithCap under a cap), TryUltrapeers the hint sent with a
//     refusal.
//   - mesh.go: Mesh and MeshGraph, the bounded-degree ultrapeer mesh.
//   - registry.go, handle.go: Registry, an ultrapeer's keyword index of its
//     leaves and itself, one immutable ownerIndex (ownerindex.go) per owner,
//     each leaf within a Budget (budget.go); diff.go: the leaf side (Diff,
//     Delta).
//   - wire.go, codec.go: the index-plane framing (ReadFrame, WriteFrame)
//     over a reliable stream the caller provides; parts.go: updates in
//     parts (SplitUpdate, Assembler).
//
// # Election
//
// Every node runs Elect on its own view; the same view gives the same set.
// count is the smallest u >= max(1, ceil(members / leaves_per_ultrapeer))
// with (u - k + 1) * max_leaves >= (members - u) * k, k = min(
// ultrapeers_per_leaf, u): enough that every leaf fits under the cap (a
// leaf left short would see u-k+1 ultrapeers full, more attachments than
// the leaves make). Forced ultrapeers
// are in, forced leaves out; the other slots go to eligible members
// (capacity >= the floor) ranked mature first (uptime >= min_uptime), then
// Score descending, then ID ascending, where
//
//	Score = capacity * (1 + min(floor(log2(1 + uptime_minutes)), 8) / 8)
//
// An incumbent (a member publishing the ultrapeer role) keeps its role while
// its rank is below ceil(slots * (1 + hysteresis)); only the slots left go
// to newcomers. So a joining or leaving leaf changes no role, a stronger
// newcomer waits until an incumbent drops out of the band, and a count that
// shrinks by one keeps the extra incumbents inside the band. With fewer
// eligible members than slots, all are taken; with none, the best member
// below the floor, so that a network always has one ultrapeer.
//
// # Attachment and mesh
//
// Weight(a, b) = SplitMix64-finaliser(FNV-1a-64(a || 0x00 || b)). A leaf L
// attaches to the k ultrapeers U with the largest Weight(L, U) (ties by
// ID): when an ultrapeer leaves only its own leaves move. Under the cap
// (Assign) each leaf asks down its order; an ultrapeer at max_leaves keeps
// the leaves of largest Weight(L, U) and turns the lightest away, which ask
// their next (deferred acceptance: the result does not depend on the order
// of the leaves, and equals plain rendezvous where no cap binds). An
// ultrapeer refuses a leaf it is not planned to hold once full, with
// TryUltrapeers(self, set, n), the first n of its own rendezvous order;
// the leaf plans again without that ultrapeer at once.
//
// The mesh: complete when there are at most degree+1 ultrapeers; otherwise
// the union of degree/2 Hamiltonian cycles, cycle j ordering the ultrapeers
// by Weight("servent-mesh-j", id), plus for an odd degree a matching of
// ranks (2i, 2i+1) in ordering degree/2. Symmetric, connected, degree at
// most the configured one, diameter O(log n).
//
// # Matching rule
//
// Registry.Match implements query.MatchFile, the one matching rule, over an
// inverted index: an entry's keywords are the ones it supplies, or
// content.Keywords of its share-relative path; every query word
// (content.QueryWords) must equal one of them or, from query.MinPrefix
// characters, start one; a query carrying a URN also needs the entry's
// content hash to equal it. TestRegistryAgreesWithMatchFile (here) and
// sim's TestFileIndexAgreesWithRegistry check on random input that the
// daemon's index and the simulator's file lists answer alike.
//
// # Index plane
//
// A leaf opens one reliable stream per ultrapeer and sends Register (its
// owner data and full index), then Update frames as its shares change; the
// ultrapeer answers every frame with Ack (the version it now holds) or
// Refuse. Versions: a full index sets the version; a delta applies only
// when FromVersion equals the held version; a retried delta (ToVersion <=
// held) is acknowledged without change; a gap gets Refuse(version gap), and
// the leaf resends a full index. An update too big for one frame goes in
// parts (SplitUpdate): each part carries the update's flags and versions,
// all but the last the More bit; the ultrapeer applies the whole update
// once (Assembler). Ack also says how many entries the leaf's Budget left
// out.
//
// Frame: uvarint length N (1 <= N <= 16 MiB, minimal encoding), then N
// bytes: a type byte and the body. All varints are unsigned LEB128 and must
// be minimal; strings are a uvarint byte length then UTF-8 bytes; no byte
// may follow the body.
//
//	0x01 Register: version u8 (=2) | id string (<= 255) |
//	     addr_len u8 (0, 4 or 16) | addr | port u16 big-endian
//	     (addr_len 0: port 0; no zone) | fingerprint [32] | Update body
//	0x02 Update:   flags u8 (bit 0 = full, bit 1 = more; other bits 0) |
//	     from uvarint | to uvarint |
//	     add_count uvarint | add_count × Entry |
//	     remove_count uvarint | remove_count × path string (non-empty)
//	     Entry: path string (1..4096) | size uvarint (<= 2^63-1) |
//	     hash [32] | kw_count uvarint (<= 255) | kw_count × string (<= 255)
//	0x03 Ack:      version uvarint | dropped uvarint
//	0x04 Refuse:   reason u8 (1 full, 2 version gap, 3 bad update,
//	     4 not an ultrapeer, 5 not planned) | count uvarint (<= 32) |
//	     count × id string
//
// Example, Ack{Version: 300, Dropped: 2}: 04 03 ac 02 02. docs/PROTOCOL.md
// §12 has the rules around the frames.
//
// Imports: query, role and content only among servent's packages, and no
// I/O library (no badger, fsnotify, quic-go or memberlist):
// internal/archtest's TestImportDirection and TestPureImportsNoIO check it.
package ultrapeer
