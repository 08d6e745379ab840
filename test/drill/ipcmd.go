//go:build linux

package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// cmdTimeout bounds every iproute2 or tc invocation.
const cmdTimeout = 15 * time.Second

// ErrNoNetns reports that network namespaces cannot be used here (not
// root, or iproute2 missing).
var ErrNoNetns = errors.New("drill: needs root and ip netns")

// run executes one command with cmdTimeout and returns its trimmed
// standard output; the error carries the command line and its stderr.
func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// ip runs `ip ARGS...`.
func ip(ctx context.Context, args ...string) error {
	_, err := run(ctx, "ip", args...)
	return err
}

// inNS runs `ip -n NS ARGS...`: an iproute2 command inside namespace ns.
func inNS(ctx context.Context, ns string, args ...string) error {
	return ip(ctx, append([]string{"-n", ns}, args...)...)
}

// Available reports whether this process can create network namespaces:
// it is root and `ip netns` works. The error says what is missing.
func Available(ctx context.Context) error {
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("%w: iproute2 not installed: %v", ErrNoNetns, err)
	}
	if _, err := run(ctx, "ip", "netns", "list"); err != nil {
		return fmt.Errorf("%w: %v", ErrNoNetns, err)
	}
	probe := "sdprobe" + randHex(4)
	if err := ip(ctx, "netns", "add", probe); err != nil {
		return fmt.Errorf("%w: %v", ErrNoNetns, err)
	}
	if err := ip(ctx, "netns", "del", probe); err != nil {
		return fmt.Errorf("%w: %v", ErrNoNetns, err)
	}
	return nil
}
