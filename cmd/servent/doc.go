// Command servent shares folders on a LAN with no internet: run the daemon
// with `servent run --share DIR`, then search and download from the CLI.
//
// One file per subcommand (run, status, peers, shares, search, get, bench,
// version); each parses its flags, talks to the daemon over the control
// socket (package api) and prints. The daemon itself is package daemon.
//
// Imports: daemon (run), api (every other subcommand), configs, sim
// (bench), kit, browse, storage (opening the data dir offline), content,
// role and internal/names. Nothing imports it.
package main
