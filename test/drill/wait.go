//go:build linux

package drill

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTimeout is returned by Eventually when the condition never held.
var ErrTimeout = errors.New("drill: timed out")

// Eventually calls cond every interval until it returns nil, timeout
// passes or ctx ends. On timeout the error wraps ErrTimeout and cond's last
// error. It blocks for at most timeout (plus one cond call).
func Eventually(ctx context.Context, timeout, interval time.Duration, cond func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w after %s: %w", ErrTimeout, timeout, err)
		case <-t.C:
		}
	}
}
