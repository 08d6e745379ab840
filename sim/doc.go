// Package sim is the discrete-event network simulator behind `servent
// bench`: it builds a topology (random, power-law or a real crawl), places
// files, and drives one real query.Router per virtual node — elected,
// attached and meshed by the real ultrapeer code in smart mode — from an
// event queue with a virtual clock. There is no goroutine per node and no
// real time, so 100,000 nodes fit on a small machine. It owns the report
// types (Report, Row) and their renderers, which the live benchmark reuses.
//
// Imports: query, ultrapeer and role (the code it drives), content (file
// hashes and keywords), api and internal/proc (the live benchmark's real
// servents), internal/chart (--plot); never daemon, overlay or storage.
package sim
