package main

import (
	"bufio"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// exeReadOnlyRSS is how many bytes of this binary's read-only mappings are
// mapped, summed from /proc/self/smaps.
func exeReadOnlyRSS(t *testing.T) int64 {
	t.Helper()
	var exe unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &exe); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total int64
	var cur *exeMapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := parseMapping(sc.Text()); ok {
			if cur != nil {
				total += cur.rss
			}
			cur = nil
			if m.readOnly && m.dev == uint64(exe.Dev) && m.inode == uint64(exe.Ino) {
				cur = &m
			}
		} else if cur != nil {
			cur.field(sc.Text())
		}
	}
	if cur != nil {
		total += cur.rss
	}
	return total
}

// TestDropStartPages: the binary's read-only pages are unmapped (this test
// binary, like servent, touched most of them while starting), and code
// runs afterwards (exeReadOnlyRSS), mapped again from the page cache.
func TestDropStartPages(t *testing.T) {
	before := exeReadOnlyRSS(t)
	if before < 1<<20 {
		t.Fatalf("only %d bytes of the binary mapped before: smaps not read", before)
	}
	n, err := dropStartPages()
	if err != nil {
		t.Fatal(err)
	}
	after := exeReadOnlyRSS(t)
	t.Logf("binary's read-only pages mapped: %d kB before, %d kB unmapped, %d kB after", before>>10, n>>10, after>>10)
	if n < before/2 || after > before/2 {
		t.Errorf("unmapped %d of %d bytes, %d still mapped: want most of them gone", n, before, after)
	}
}

// TestParseMapping: header lines of /proc/PID/smaps give the range,
// permissions, device and inode; counter lines are not headers, and a
// mapping's Rss and Anonymous (its own copied-on-write pages, which
// dropStartPages must not throw away) are read.
func TestParseMapping(t *testing.T) {
	m, ok := parseMapping("00400000-00e2a000 r-xp 00000000 fd:01 1835099                            /usr/local/bin/servent")
	if !ok || m.start != 0x400000 || m.end != 0xe2a000 || !m.readOnly || m.dev != unix.Mkdev(0xfd, 1) || m.inode != 1835099 {
		t.Fatalf("code mapping parsed as %+v, %v", m, ok)
	}
	if m, ok := parseMapping("01927000-019c3000 rw-p 01526000 fd:01 1835099   /usr/local/bin/servent"); !ok || m.readOnly {
		t.Fatalf("writable data parsed as %+v, %v", m, ok)
	}
	if m, ok := parseMapping("7f5d6ea8c000-7f5d6ed00000 rw-p 00000000 00:00 0 "); !ok || m.inode != 0 {
		t.Fatalf("anonymous mapping parsed as %+v, %v", m, ok)
	}
	for _, line := range []string{"Rss:                9192 kB", "VmFlags: rd ex mr mw me dw sd", "THPeligible:    0", ""} {
		if _, ok := parseMapping(line); ok {
			t.Errorf("%q taken for a mapping", line)
		}
	}
	m.field("Rss:                9192 kB")
	m.field("Anonymous:             8 kB")
	m.field("Private_Dirty:      100 kB")
	if m.rss != 9192<<10 || m.anonymous != 8<<10 {
		t.Fatalf("counters: rss %d, anonymous %d", m.rss, m.anonymous)
	}
}
