// Package overlay owns a node's network layer: the single UDP socket shared by
// QUIC (connections routed by ALPN) and non-QUIC datagrams (demultiplexed by a
// leading plane byte), the node's TLS identity and fingerprint pinning,
// memberlist membership running over that same socket (packets as datagrams,
// streams as QUIC streams), node metadata, and LAN discovery (broadcast and
// multicast beacons, seeds, the peer cache).
//
// Lifecycle: New(cfg) → HandleALPN/HandleDatagrams → Start(ctx) → Leave(timeout)
// → Close(). Close is idempotent and joins every goroutine the node started.
//
// Ports: the node listens on one UDP port (Config.Listen, default 6346) for
// everything; LAN discovery additionally listens on a discovery-only UDP port
// (Config.DiscoveryListen, default 6347) for beacons. No TCP socket is opened.
package overlay
