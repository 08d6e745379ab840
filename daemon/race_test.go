//go:build race

package daemon

// raceEnabled is true when the race detector runs, which slows every node
// several times over (memberlist probes then time out now and then).
const raceEnabled = true
