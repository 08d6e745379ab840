//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// dropStartPages takes the servent binary's read-only pages (machine code,
// read-only data, the function tables) out of this process's page tables
// once the daemon has started, as the kernel frees its own init code after
// boot. Start-up touches nearly all of them (every package's init, reading
// the configuration, opening the catalog, and the kernel maps 64 KiB
// around every page touched), while an idle daemon runs about a quarter of
// them again. The pages stay in the page cache: the code that runs again
// is mapped again at its next use (a minor fault), what ran only at
// start-up stays unmapped, which the kernel reclaims first when memory is
// short. A mapping holding pages of its own (a relocated RELRO segment of
// a cgo build, a debugger's breakpoint) is left alone, as is everything
// writable. It returns how many bytes were unmapped.
func dropStartPages() (int64, error) {
	var exe unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &exe); err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var (
		dropped int64
		cur     *exeMapping
	)
	flush := func() error {
		if cur == nil || cur.anonymous != 0 {
			return nil
		}
		_, _, e := unix.Syscall(unix.SYS_MADVISE, cur.start, cur.end-cur.start, unix.MADV_DONTNEED)
		if e != 0 {
			return fmt.Errorf("madvise %#x-%#x: %w", cur.start, cur.end, e)
		}
		dropped += cur.rss
		return nil
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m, ok := parseMapping(line); ok {
			if err := flush(); err != nil {
				return dropped, err
			}
			cur = nil
			if m.readOnly && m.dev == uint64(exe.Dev) && m.inode == uint64(exe.Ino) {
				cur = &m
			}
			continue
		}
		if cur != nil {
			cur.field(line)
		}
	}
	if err := sc.Err(); err != nil {
		return dropped, err
	}
	return dropped, flush()
}

// exeMapping is one mapping of /proc/self/smaps: its header line and the
// two counters dropStartPages reads.
type exeMapping struct {
	start, end uintptr
	readOnly   bool // r-xp or r--p: code or read-only data, mapped private
	dev        uint64
	inode      uint64
	rss        int64 // bytes mapped
	anonymous  int64 // bytes of the mapping's own (copied-on-write) pages
}

// parseMapping parses a mapping's header line, "start-end perms offset
// major:minor inode [path]"; ok is false for the counter lines between.
func parseMapping(line string) (m exeMapping, ok bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return m, false
	}
	lo, hi, ok1 := strings.Cut(f[0], "-")
	major, minor, ok2 := strings.Cut(f[3], ":")
	if !ok1 || !ok2 {
		return m, false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	maj, err3 := strconv.ParseUint(major, 16, 32)
	mnr, err4 := strconv.ParseUint(minor, 16, 32)
	inode, err5 := strconv.ParseUint(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil || end <= start {
		return m, false
	}
	return exeMapping{
		start: uintptr(start), end: uintptr(end),
		readOnly: f[1] == "r-xp" || f[1] == "r--p",
		dev:      unix.Mkdev(uint32(maj), uint32(mnr)),
		inode:    inode,
	}, true
}

// field reads the counters dropStartPages needs from a line such as
// "Rss:  1234 kB".
func (m *exeMapping) field(line string) {
	name, rest, ok := strings.Cut(line, ":")
	if !ok {
		return
	}
	f := strings.Fields(rest)
	if len(f) != 2 || f[1] != "kB" {
		return
	}
	kb, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return
	}
	switch name {
	case "Rss":
		m.rss = kb << 10
	case "Anonymous":
		m.anonymous = kb << 10
	}
}
