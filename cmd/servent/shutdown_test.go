package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStopWithDataDirGone: a daemon whose data dir disappears (a USB stick
// pulled, a wiped tmpfs) used to hang on SIGTERM forever, badger retrying
// its memtable flush. It must end within the shutdown bound, exit 1 and
// say why.
func TestStopWithDataDirGone(t *testing.T) {
	dir := t.TempDir()
	data, share := filepath.Join(dir, "data"), filepath.Join(dir, "share")
	if err := os.MkdirAll(share, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(share, "notes.txt"), []byte("water at the school\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "run.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(binary, "run", "--data", data, "--share", share, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "SERVENT_DISCOVERY=false")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{}) // closed once waitErr is set
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	logText := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	eventually(t, 30*time.Second, "the daemon to index its share", func() bool {
		return strings.Contains(logText(), "shares indexed")
	})

	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
		if ee, ok := waitErr.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("exit %v, want status 1\n%s", waitErr, logText())
		}
		if !strings.Contains(logText(), "disk gone or failing") {
			t.Fatalf("the daemon did not say why it could not stop cleanly:\n%s", logText())
		}
	case <-time.After(shutdownTimeout + 15*time.Second):
		t.Fatalf("servent run still running %v after SIGTERM with its data dir gone\n%s", time.Since(start), logText())
	}
}
