// Package overlay owns a node's network layer: the single UDP socket shared by
// QUIC (connections routed by ALPN) and memberlist's packets (demultiplexed by
// a leading plane byte), the node's TLS identity and fingerprint pinning,
// memberlist membership running over that same socket (packets as datagrams,
// streams as QUIC streams), the datagram planes carried as QUIC DATAGRAM
// frames on pinned connections, node metadata, and LAN discovery (broadcast
// and multicast beacons, seeds, the peer cache).
//
// Peers are keys, addresses are paths: memberlist knows each member by a
// stand-in address derived from its key (StandIn), and the overlay resolves
// it to the path a pinned QUIC handshake completed on, trying the member's
// candidate addresses (every interface, IPv4 and IPv6, link-local ones zoned
// by this host's interface) until one answers with the member's key.
//
// Lifecycle: New(cfg) → HandleALPN/HandleDatagrams → Start(ctx) → Leave(timeout)
// → Close(). Close is idempotent and joins every goroutine the node started.
//
// Ports: the node listens on one UDP port (Config.Listen, default [::]:6346,
// IPv4 and IPv6) for everything; LAN discovery additionally listens on a
// discovery-only UDP port (Config.DiscoveryListen, default 6347, one IPv4 and
// one IPv6 socket) for beacons. No TCP socket is opened.
//
// Imports: role only among servent's packages (the role byte in the
// metadata); it knows nothing of queries, indexes or files. daemon and
// nothing else imports it.
package overlay
