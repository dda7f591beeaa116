//go:build linux

package poller

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// pollState is the epoll half of a Loop. The event array lives inside the Loop
// so that a wait allocates nothing.
type pollState struct {
	epfd   int
	events [maxEvents]unix.EpollEvent
}

func (l *Loop) openPoller() error {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	l.p.epfd = fd
	return nil
}

func (l *Loop) closePoller() error { return closeFD(l.p.epfd) }

// pollRegister moves fd's kernel registration from interest old to ev. An
// empty interest is no registration at all: epoll reports EPOLLHUP and EPOLLERR
// even for an empty mask, which would make a level-triggered loop spin on a
// descriptor its owner had silenced (kqueue has no such events).
func (l *Loop) pollRegister(fd int, old, ev Events) error {
	op := unix.EPOLL_CTL_MOD
	switch {
	case old == ev && old != 0:
		return nil
	case old == 0 && ev == 0:
		return nil
	case old == 0:
		op = unix.EPOLL_CTL_ADD
	case ev == 0:
		op = unix.EPOLL_CTL_DEL
	}
	e := unix.EpollEvent{Events: epollMask(ev), Fd: int32(fd)}
	if err := unix.EpollCtl(l.p.epfd, op, fd, &e); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// epollMask asks for EPOLLRDHUP with Readable only: it signals the end of the
// peer's writes, which a writer-only registration should not keep hearing about
// (kqueue reports EV_EOF on the read filter only for that case).
func epollMask(ev Events) uint32 {
	var m uint32
	if ev&Readable != 0 {
		m |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if ev&Writable != 0 {
		m |= unix.EPOLLOUT
	}
	return m
}

// epollEvents translates a reported mask. A hangup also means readable (a read
// returns end of file at once), as EV_EOF on kqueue's read filter does;
// dispatchReady masks Readable away if it was not asked for.
func epollEvents(m uint32) Events {
	var ev Events
	if m&(unix.EPOLLIN|unix.EPOLLPRI) != 0 {
		ev |= Readable
	}
	if m&unix.EPOLLOUT != 0 {
		ev |= Writable
	}
	if m&(unix.EPOLLHUP|unix.EPOLLRDHUP) != 0 {
		ev |= Hangup | Readable
	}
	if m&unix.EPOLLERR != 0 {
		ev |= Error
	}
	return ev
}

// waitName names the system call waitOnce makes, for errors. x/sys implements
// EpollWait with the epoll_pwait system call on every Linux architecture (some
// have no epoll_wait), with a nil signal mask.
const waitName = "epoll_pwait"

// waitOnce blocks in epoll_pwait for at most timeout (negative: no limit) and
// returns how many events it stored.
func (l *Loop) waitOnce(timeout time.Duration) (int, error) {
	return unix.EpollWait(l.p.epfd, l.p.events[:], epollMsec(timeout))
}

func (l *Loop) collect(n int) {
	for i := range l.p.events[:n] {
		e := &l.p.events[i]
		if l.takeWake(e) {
			continue
		}
		l.markReady(int(e.Fd), epollEvents(e.Events))
	}
}

// epollMsec rounds a timeout up to whole milliseconds, so that a timer is never
// run early for want of resolution.
func epollMsec(d time.Duration) int {
	switch {
	case d < 0:
		return -1
	case d > time.Duration(1<<31-1)*time.Millisecond:
		return 1<<31 - 1
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}
