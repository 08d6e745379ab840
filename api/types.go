package api

import "time"

// Routes of the control API.
const (
	RouteStatus = "/v1/status"
	RouteShares = "/v1/shares"
	RoutePeers  = "/v1/peers"
	RouteSearch = "/v1/search"
	RouteGet    = "/v1/get"
)

// Status is the daemon's own state (servent status).
type Status struct {
	Name        string        `json:"name"`
	Version     string        `json:"version"`
	Role        string        `json:"role"`
	Routing     string        `json:"routing"`
	Listen      string        `json:"listen"`
	Addresses   []string      `json:"addresses,omitempty"` // what this node publishes: others try these
	Fingerprint string        `json:"fingerprint"`
	Open        bool          `json:"open"` // no drill key: anyone on the LAN may join
	Uptime      time.Duration `json:"uptime_ns"`
	Members     int           `json:"members"`
	Ultrapeers  []string      `json:"ultrapeers"`
	AttachedTo  []string      `json:"attached_to,omitempty"` // a leaf's ultrapeers
	Leaves      []string      `json:"leaves,omitempty"`      // an ultrapeer's leaves
	Mesh        []string      `json:"mesh,omitempty"`        // an ultrapeer's (or flood node's) neighbours
	JoinedVia   string        `json:"joined_via,omitempty"`
	Shares      int           `json:"shares"`
	SharedBytes int64         `json:"shared_bytes"`
	Scanning    bool          `json:"scanning"`
	Datagrams   Datagrams     `json:"datagrams"`
	Query       any           `json:"query,omitempty"`    // the routing core's counters
	Transfer    any           `json:"transfer,omitempty"` // upload counters
}

// Datagrams counts the node's UDP datagram plane.
type Datagrams struct {
	In        uint64 `json:"in"`
	Out       uint64 `json:"out"`
	Dropped   uint64 `json:"dropped"`
	Malformed uint64 `json:"malformed"`
}

// Share is one file of the local catalog (servent shares).
type Share struct {
	Root    string    `json:"root"`
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	Hash    string    `json:"hash"`
	ModTime time.Time `json:"mtime"`
}

// Peer is one member of the network as this node sees it (servent peers).
// Addr is where this node reaches it (an IPv6 link-local address carries
// this host's interface as zone): Verified when a handshake with its key
// completed there, else where its packets come from; empty while neither.
// Candidates are the addresses it publishes.
type Peer struct {
	Name        string   `json:"name"`
	Addr        string   `json:"addr"`
	Verified    bool     `json:"verified,omitempty"`
	Candidates  []string `json:"candidates,omitempty"`
	Role        string   `json:"role"`
	State       string   `json:"state"`
	Shares      int      `json:"shares"`
	Fingerprint string   `json:"fingerprint"`
	AttachedTo  []string `json:"attached_to,omitempty"`
	Self        bool     `json:"self,omitempty"`
}

// SearchRequest asks the daemon to search the network.
type SearchRequest struct {
	Words   []string      `json:"words,omitempty"`
	Hash    string        `json:"hash,omitempty"` // search by content hash (urn:blake3:...)
	Timeout time.Duration `json:"timeout_ns"`
	Max     int           `json:"max,omitempty"` // stop after this many distinct files
}

// Source is a peer that holds a file.
type Source struct {
	Name        string `json:"name"`
	Addr        string `json:"addr"` // QUIC address IP:PORT
	Fingerprint string `json:"fingerprint,omitempty"`
	// Partial: the peer holds only part of the file, a download in
	// progress that serves the chunks it has verified (a partial hit).
	Partial bool `json:"partial,omitempty"`
}

// Result is one file found by a search, grouped by content hash. A result
// streams again, with more sources or names, when another peer answers for
// it.
type Result struct {
	Name string `json:"name"`
	// Names are every name the peers gave this content, Name first.
	Names []string `json:"names,omitempty"`
	Size  int64    `json:"size"`
	Hash  string   `json:"hash"`
	// Exact is how many query words equal a word of the best-matching name
	// (the others match as prefixes); results rank by it (SortResults).
	Exact   int      `json:"exact"`
	Sources []Source `json:"sources"`
}

// SearchEvent is one line of a search stream: exactly one field is set.
type SearchEvent struct {
	Result *Result     `json:"result,omitempty"`
	Done   *SearchDone `json:"done,omitempty"`
	Error  string      `json:"error,omitempty"`
}

// SearchDone ends a search stream.
type SearchDone struct {
	Results  int           `json:"results"`
	Hits     int           `json:"hits"`
	FirstHit time.Duration `json:"first_hit_ns,omitempty"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	Warning  string        `json:"warning,omitempty"` // e.g. a leaf with no ultrapeer left
	// Complete: every node the search waited for answered, so it ended
	// before its timeout.
	Complete bool `json:"complete,omitempty"`
	// Searched: the ultrapeer that queried the network dynamically for
	// this search stopped (enough results came, or it tried the whole
	// mesh), so it ended before its timeout.
	Searched bool `json:"searched,omitempty"`
}

// GetRequest asks the daemon to download a file by content hash. With no
// sources given, the daemon finds them with a search by hash.
type GetRequest struct {
	Hash    string   `json:"hash"`
	Name    string   `json:"name,omitempty"`
	OutDir  string   `json:"out_dir"`
	Share   bool     `json:"share,omitempty"` // add the finished file to the shares
	Sources []Source `json:"sources,omitempty"`
}

// GetEvent is one line of a download stream: exactly one field is set.
type GetEvent struct {
	Progress *Progress `json:"progress,omitempty"`
	Done     *GetDone  `json:"done,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// Progress reports a running download.
type Progress struct {
	Bytes   int64        `json:"bytes"`
	Total   int64        `json:"total"`
	Sources int          `json:"sources"`
	Queue   []QueuePlace `json:"queue,omitempty"` // sources that queued this download
	// Files and FilesDone count the files of a folder download.
	Files     int `json:"files,omitempty"`
	FilesDone int `json:"files_done,omitempty"`
}

// QueuePlace is this download's place in a busy source's upload queue:
// the source serves the peers ahead of it first.
type QueuePlace struct {
	Source   string  `json:"source"`
	Position int     `json:"position"` // 1 is next
	Length   int     `json:"length"`   // peers queued there
	WaitSecs float64 `json:"wait_s,omitempty"`
}

// GetDone is the final record of a download.
type GetDone struct {
	Path    string           `json:"path"`
	Size    int64            `json:"size"`
	Hash    string           `json:"hash"`
	Seconds float64          `json:"seconds"`
	Sources map[string]int64 `json:"sources"` // bytes fetched from each source
	Renamed bool             `json:"renamed,omitempty"`
	Resumed bool             `json:"resumed,omitempty"`
	Liars   []string         `json:"liars,omitempty"`
	Shared  bool             `json:"shared,omitempty"`
	// A folder download: Path is the folder, Files its files, Kept those
	// already there from an earlier run (not fetched again), Skipped the
	// names that could not be made safe or collided after sanitising.
	Files   int      `json:"files,omitempty"`
	Kept    int      `json:"kept,omitempty"`
	Skipped []string `json:"skipped,omitempty"`
}
