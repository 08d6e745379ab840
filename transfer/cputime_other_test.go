//go:build !linux

package transfer

import "time"

// cpuTime is only measured on Linux.
func cpuTime() time.Duration { return 0 }
