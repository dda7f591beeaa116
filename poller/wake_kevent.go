//go:build darwin || freebsd || dragonfly

package poller

import "golang.org/x/sys/unix"

// wakeIdent names the loop's EVFILT_USER event. User events have their own
// identifier space, so it cannot collide with a descriptor.
const wakeIdent = 0

// wakeState is the EVFILT_USER waker: no descriptor at all, the kqueue itself
// is the wake channel. trigger is prepared once and only read afterwards, so
// concurrent wakers share it.
type wakeState struct {
	trigger [1]unix.Kevent_t
}

func (l *Loop) openWaker() error {
	// EV_CLEAR resets the event when the kernel reports it, so the owner has
	// nothing to drain and triggers merged before a report count once.
	if err := l.kevent(wakeIdent, unix.EVFILT_USER, unix.EV_ADD|unix.EV_CLEAR); err != nil {
		return err
	}
	unix.SetKevent(&l.w.trigger[0], wakeIdent, unix.EVFILT_USER, 0)
	l.w.trigger[0].Fflags = unix.NOTE_TRIGGER
	return nil
}

// writeWaker fires the user event; with no event list kevent does not block.
func (l *Loop) writeWaker() error {
	for {
		_, err := unix.Kevent(l.p.kq, l.w.trigger[:], nil, nil)
		if err != unix.EINTR {
			return err
		}
	}
}

// takeWake reports whether k is the wake event (EV_CLEAR has already reset it).
func (l *Loop) takeWake(k *unix.Kevent_t) bool {
	return k.Filter == unix.EVFILT_USER && k.Ident == wakeIdent
}

// closeWaker has nothing to release: the user event goes with the kqueue.
func (l *Loop) closeWaker() error {
	return nil
}
