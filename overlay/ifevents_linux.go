package overlay

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// interfaceChanges subscribes to the kernel's notifications of links and
// addresses coming and going (rtnetlink groups RTMGRP_LINK and
// RTMGRP_IPV{4,6}_IFADDR): the channel receives (coalesced) when one
// arrives, or when notifications were lost. stop ends the subscription
// and waits for its reader. A nil channel: notifications are not
// available, poll.
func interfaceChanges() (changes <-chan struct{}, stop func()) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, func() {}
	}
	groups := uint32(unix.RTMGRP_LINK | unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return nil, func() {}
	}
	f := os.NewFile(uintptr(fd), "rtnetlink") // non-blocking: Close ends a Read
	ch := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 16<<10)
		for {
			_, err := f.Read(buf)
			if err != nil && !errors.Is(err, unix.ENOBUFS) { // ENOBUFS: some were lost
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch, func() {
		f.Close()
		<-done
	}
}
