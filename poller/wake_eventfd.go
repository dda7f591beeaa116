//go:build linux

package poller

import (
	"encoding/binary"
	"os"

	"golang.org/x/sys/unix"
)

// wakeState is the eventfd waker. Wakers write the constant one (read-only after
// openWaker, so concurrent writers share it); the owner reads into buf, which
// resets the counter however many writes were merged into it.
type wakeState struct {
	fd  int
	one [8]byte
	buf [8]byte
}

func (l *Loop) openWaker() error {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("eventfd", err)
	}
	// Level-triggered and read on every wakeup: an edge-triggered eventfd that
	// is never read would save that read, but its counter would only grow.
	e := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(l.p.epfd, unix.EPOLL_CTL_ADD, fd, &e); err != nil {
		_ = unix.Close(fd)
		return os.NewSyscallError("epoll_ctl", err)
	}
	l.w.fd = fd
	binary.NativeEndian.PutUint64(l.w.one[:], 1)
	return nil
}

// writeWaker adds one to the eventfd counter. EAGAIN (a counter about to
// overflow) means a wakeup is pending anyway.
func (l *Loop) writeWaker() error {
	for {
		_, err := unix.Write(l.w.fd, l.w.one[:])
		if err != unix.EINTR {
			return err
		}
	}
}

// takeWake reports whether e is the wake eventfd, and if so drains it.
func (l *Loop) takeWake(e *unix.EpollEvent) bool {
	if int(e.Fd) != l.w.fd {
		return false
	}
	for {
		_, err := unix.Read(l.w.fd, l.w.buf[:])
		if err != unix.EINTR {
			return true
		}
	}
}

func (l *Loop) closeWaker() error { return closeFD(l.w.fd) }
