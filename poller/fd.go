package poller

import "fmt"

// fdEntry is the owner's record of one registered descriptor. A removed entry
// is never reused: Remove marks it, so an event collected before the Remove (in
// the same batch) is dropped rather than delivered to a later registration of
// the same descriptor number.
type fdEntry struct {
	fd       int
	cb       func(fd int, ev Events)
	interest Events // Readable|Writable subset registered with the kernel
	pending  Events // collected by pollWait, consumed by dispatchReady
	removed  bool
}

// Add registers fd for the readiness conditions in ev (Readable, Writable;
// Hangup and Error come along with any of them). cb runs on the owner goroutine
// during Poll, Wait or Run, for as long as the condition holds (level-triggered),
// and may call Add, Modify and Remove on any descriptor. Registering a
// descriptor twice is an error. Remove a descriptor before closing it. Add
// panics if cb is nil.
func (l *Loop) Add(fd int, ev Events, cb func(fd int, ev Events)) error {
	if cb == nil {
		panic("poller: Add with a nil callback")
	}
	if l.closed {
		return errClosed
	}
	if fd < 0 {
		return fmt.Errorf("poller: add fd %d: invalid descriptor", fd)
	}
	if _, ok := l.fds[fd]; ok {
		return fmt.Errorf("poller: add fd %d: already registered", fd)
	}
	ev &= interestMask
	if err := l.pollRegister(fd, 0, ev); err != nil {
		return err
	}
	l.fds[fd] = &fdEntry{fd: fd, cb: cb, interest: ev}
	return nil
}

// Modify replaces the conditions fd is watched for. With ev == 0 the descriptor
// stays registered but reports nothing, not even Hangup or Error.
func (l *Loop) Modify(fd int, ev Events) error {
	if l.closed {
		return errClosed
	}
	e, ok := l.fds[fd]
	if !ok {
		return fmt.Errorf("poller: modify fd %d: not registered", fd)
	}
	ev &= interestMask
	if err := l.pollRegister(fd, e.interest, ev); err != nil {
		return err
	}
	e.interest = ev
	return nil
}

// Remove unregisters fd; its callback is not called again, even for events
// already collected in the current batch. Removing an unknown descriptor is an
// error. Removing a descriptor that was already closed is tolerated (the kernel
// forgot it on close).
func (l *Loop) Remove(fd int) error {
	if l.closed {
		return errClosed
	}
	e, ok := l.fds[fd]
	if !ok {
		return fmt.Errorf("poller: remove fd %d: not registered", fd)
	}
	delete(l.fds, fd)
	e.removed = true
	if err := l.pollRegister(fd, e.interest, 0); err != nil && !isClosedFD(err) {
		return err
	}
	return nil
}

// markReady records events for fd reported by the kernel. On kqueue readable
// and writable come as separate events; merging them here gives one callback
// per descriptor per batch on every platform.
func (l *Loop) markReady(fd int, ev Events) {
	e := l.fds[fd]
	if e == nil || ev == 0 {
		return
	}
	if e.pending == 0 {
		l.ready = append(l.ready, e)
	}
	e.pending |= ev
}

// dispatchReady runs the callbacks of the descriptors collected by pollWait.
// Events are masked with the interest current at call time, so a callback that
// modifies or removes another descriptor of the same batch takes effect at once.
// If a callback panics, the entries not yet dispatched stay in l.ready with
// their pending events and go out with the next batch; the ones already
// dispatched are nil.
func (l *Loop) dispatchReady() {
	for i, e := range l.ready {
		if e == nil {
			continue
		}
		l.ready[i] = nil
		ev := e.pending
		e.pending = 0
		if e.interest == 0 {
			continue
		}
		ev &= e.interest | Hangup | Error
		if ev == 0 || e.removed || l.closed {
			continue
		}
		e.cb(e.fd, ev)
	}
	l.ready = l.ready[:0]
}
