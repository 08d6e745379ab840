// Package scale holds the tests that run a servent network at real size:
// a hundred real `servent run` processes on loopback addresses, started
// with the default settings as people would start them, checked against
// the topology planner (ultrapeer.NewPlan) and searched. The tests skip
// with -short and outside Linux (they need the 127.0.0.0/8 loopback
// range).
//
// Imports: nothing but this comment is code; the tests import api,
// internal/proc, query and ultrapeer (the planner) and run the servent
// binary.
package scale
