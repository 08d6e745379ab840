package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/servent-p2p/servent/configs"
)

func main() {
	err := newRootCmd().Execute()
	os.Exit(exitCode(err))
}

// exitError carries a specific exit status (1: nothing found or a failed
// operation, 2: usage or configuration) to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "servent:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "servent:", err)
	if errors.Is(err, configs.ErrInvalid) || errors.Is(err, errUsage) {
		return 2
	}
	return 1
}
