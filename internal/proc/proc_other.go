//go:build !linux

package proc

import (
	"os"
	"syscall"
)

// childAttr: no process group or parent-death signal outside Linux.
func childAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p itself.
func killGroup(p *os.Process) { _ = p.Kill() }
