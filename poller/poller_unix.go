//go:build linux || darwin || freebsd || dragonfly || netbsd || openbsd

package poller

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// What the epoll and kqueue loops share; poller_epoll.go and poller_kqueue.go
// hold what differs, and poller_other.go stands in for both elsewhere.

// supported: see Supported.
const supported = true

// maxEvents bounds one batch; more ready descriptors are reported by the next
// call, since readiness is level-triggered.
const maxEvents = 128

// closeFD closes a descriptor the loop opened: its epoll or kqueue instance,
// or a wake descriptor.
func closeFD(fd int) error {
	if err := unix.Close(fd); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// isClosedFD reports whether err says the descriptor was already closed, and
// so already forgotten by epoll or kqueue.
func isClosedFD(err error) bool {
	return errors.Is(err, unix.EBADF) || errors.Is(err, unix.ENOENT)
}
