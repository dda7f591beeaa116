//go:build darwin || freebsd || dragonfly || netbsd || openbsd

package poller

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// pollState is the kqueue half of a Loop. The arrays live inside the Loop so
// that a wait allocates nothing.
type pollState struct {
	kq     int
	events [maxEvents]unix.Kevent_t
	ts     unix.Timespec
}

func (l *Loop) openPoller() error {
	kq, err := unix.Kqueue()
	if err != nil {
		return os.NewSyscallError("kqueue", err)
	}
	// kqueue descriptors are not inherited across fork on these systems, but
	// exec of a vfork child could still see it; darwin has no kqueue1.
	unix.CloseOnExec(kq)
	l.p.kq = kq
	return nil
}

func (l *Loop) closePoller() error { return closeFD(l.p.kq) }

// kevent applies one change. Changes go one by one (Add and Modify make at most
// two) so that a failure is attributed to its filter and can be undone.
func (l *Loop) kevent(fd, filter, flags int) error {
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], fd, filter, flags)
	for {
		_, err := unix.Kevent(l.p.kq, ch[:], nil, nil)
		if err != unix.EINTR {
			if err != nil {
				return os.NewSyscallError("kevent", err)
			}
			return nil
		}
	}
}

// pollRegister moves fd's registration from interest old to ev: one filter per
// condition, added level-triggered (no EV_CLEAR) to match epoll's default.
func (l *Loop) pollRegister(fd int, old, ev Events) error {
	type change struct{ filter, flags int }
	var done [2]change // applied so far, undone if a later one fails
	n := 0
	for _, c := range [...]struct {
		bit    Events
		filter int
	}{{Readable, unix.EVFILT_READ}, {Writable, unix.EVFILT_WRITE}} {
		had, want := old&c.bit != 0, ev&c.bit != 0
		if had == want {
			continue
		}
		ch := change{c.filter, unix.EV_ADD}
		if !want {
			ch.flags = unix.EV_DELETE
		}
		if err := l.kevent(fd, ch.filter, ch.flags); err != nil {
			for _, d := range done[:n] {
				undo := unix.EV_DELETE
				if d.flags == unix.EV_DELETE {
					undo = unix.EV_ADD
				}
				_ = l.kevent(fd, d.filter, undo)
			}
			return err
		}
		done[n] = ch
		n++
	}
	return nil
}

// waitName names the system call waitOnce makes, for errors.
const waitName = "kevent"

// waitOnce blocks in kevent for at most timeout (negative: no limit) and returns
// how many events it stored.
func (l *Loop) waitOnce(timeout time.Duration) (int, error) {
	var ts *unix.Timespec
	if timeout >= 0 {
		l.p.ts = unix.NsecToTimespec(int64(timeout))
		ts = &l.p.ts
	}
	return unix.Kevent(l.p.kq, nil, l.p.events[:], ts)
}

// collect translates kevents: the filter gives Readable or Writable, EV_EOF
// gives Hangup (with Error when it carries an error code in fflags, as for a
// reset socket) and EV_ERROR gives Error.
func (l *Loop) collect(n int) {
	for i := range l.p.events[:n] {
		k := &l.p.events[i]
		if l.takeWake(k) {
			continue
		}
		var ev Events
		switch k.Filter {
		case unix.EVFILT_READ:
			ev = Readable
		case unix.EVFILT_WRITE:
			ev = Writable
		}
		if k.Flags&unix.EV_EOF != 0 {
			ev |= Hangup
			if k.Fflags != 0 {
				ev |= Error
			}
		}
		if k.Flags&unix.EV_ERROR != 0 {
			ev |= Error
		}
		l.markReady(int(k.Ident), ev)
	}
}
