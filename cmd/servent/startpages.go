package main

import (
	"context"
	"log/slog"
	"time"
)

// startPagesDelay is how long after Start the daemon's start-up is taken
// to be over: the first scan of a share of a few thousand files, joining
// and the first election are done within seconds on a LAN. Code that runs
// later than that is mapped again as it runs.
const startPagesDelay = 20 * time.Second

// dropStartPagesLater runs dropStartPages once, startPagesDelay from now,
// unless ctx ends first. Failing costs only the memory, so it is logged.
func dropStartPagesLater(ctx context.Context, logger *slog.Logger) {
	t := time.NewTimer(startPagesDelay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	n, err := dropStartPages()
	if err != nil {
		logger.Warn("start-up pages of the binary stay mapped", "err", err)
		return
	}
	logger.Debug("start-up pages of the binary unmapped", "bytes", n)
}
