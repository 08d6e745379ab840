// Package drill is the outage drill: it builds a LAN of hosts on one machine
// with network namespaces, veth pairs and a bridge, runs one real `servent`
// process per host, and drives each one only through the servent CLI, as a
// person at that laptop would.
//
// lan.go owns the network (namespaces, bridge, addresses, link faults,
// partitions, rate shaping), host.go one servent daemon per host (data and
// share dirs, process, log), cli.go the CLI calls that return decoded JSON,
// files.go the generated share files and their BLAKE3 hashes, sweep.go the
// removal of namespaces left behind by a killed run. The scenarios live in
// drill_test.go; docs/DRILL.md tells how to run a drill on a real LAN and
// lists the figures.
//
// Network namespaces are Linux's, so every other file of the package builds
// on Linux only; on other systems the package is this comment.
//
// Everything needs root and iproute2 (`ip netns`); the tests skip with a
// clear message where either is missing. Every external command runs with a
// deadline, and every LAN removes its namespaces, links and processes on
// Close, which the tests register with t.Cleanup.
//
// Imports: api (the CLI's JSON), content (file hashes) and internal/proc;
// it drives servent only through its CLI, never by linking daemon.
package drill
