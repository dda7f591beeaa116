//go:build netbsd || openbsd

package poller

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// wakeState is the self-pipe waker, for the kqueue systems whose x/sys has no
// EVFILT_USER (OpenBSD lacks it; NetBSD 10 has it, but x/sys v0.50 does not
// define it). Both ends are non-blocking: a full pipe already holds a pending
// wakeup, and the owner drains until EAGAIN.
type wakeState struct {
	r, w int
	one  [1]byte  // read-only after openWaker, shared by wakers
	buf  [64]byte // owner only
}

func (l *Loop) openWaker() error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return os.NewSyscallError("pipe2", err)
	}
	if err := l.kevent(p[0], unix.EVFILT_READ, unix.EV_ADD); err != nil {
		_ = unix.Close(p[0])
		_ = unix.Close(p[1])
		return err
	}
	l.w.r, l.w.w = p[0], p[1]
	l.w.one[0] = 1
	return nil
}

// writeWaker writes one byte; EAGAIN means the pipe is full of wakeups already.
func (l *Loop) writeWaker() error {
	for {
		_, err := unix.Write(l.w.w, l.w.one[:])
		if err != unix.EINTR {
			return err
		}
	}
}

// takeWake reports whether k is the pipe's read end, and if so drains it.
func (l *Loop) takeWake(k *unix.Kevent_t) bool {
	if k.Filter != unix.EVFILT_READ || int(k.Ident) != l.w.r {
		return false
	}
	for {
		n, err := unix.Read(l.w.r, l.w.buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < len(l.w.buf) {
			return true
		}
	}
}

func (l *Loop) closeWaker() error {
	return errors.Join(closeFD(l.w.r), closeFD(l.w.w))
}
