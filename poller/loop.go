package poller

import (
	"context"
	"os"
	"syscall"
	"time"
)

// Poll runs one step: it waits at most timeout for a ready descriptor, a due
// timer or a Wake (0: do not block; negative: no limit), then runs the ready
// descriptors' callbacks and the due timers, and returns. It may return having
// dispatched nothing (a timeout, a Wake, a spurious wakeup). A Wake that came
// before Poll announced its sleep does not end it; use Wait to sleep on a
// condition.
func (l *Loop) Poll(timeout time.Duration) error {
	if err := l.checkEnter(); err != nil {
		return err
	}
	t := l.untilTimer(timeout)
	if t != 0 {
		l.state.Store(stateSleeping)
	}
	return l.step(t)
}

// Wait returns nil as soon as ready() is true and ctx.Err() when ctx is done
// first; it is the waiting interface of the ring package. ready is called on
// the owner goroutine and must be cheap: once at entry, and around every sleep.
// While waiting, Wait runs descriptor callbacks and timers. Whoever makes
// ready() true must call Wake afterwards; then the wakeup is never lost (see
// the package documentation). With a context that cannot be cancelled
// (Done() == nil), Wait allocates nothing; otherwise it registers Wake with
// context.AfterFunc for its duration. Stop does not end a Wait.
func (l *Loop) Wait(ctx context.Context, ready func() bool) error {
	if ready() {
		return nil
	}
	return l.waitSlow(ctx, ready)
}

func (l *Loop) waitSlow(ctx context.Context, ready func() bool) error {
	done := ctx.Done()
	if done != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		defer context.AfterFunc(ctx, l.Wake)()
	}
	for {
		if err := l.checkEnter(); err != nil {
			return err
		}
		t := l.untilTimer(-1)
		if t != 0 {
			// Announce, then re-check: the owner's half of the handshake in
			// wake.go. The producer's half is "store, then Wake".
			l.state.Store(stateSleeping)
			if ready() {
				l.state.Store(stateAwake)
				return nil
			}
			if isDone(done) {
				l.state.Store(stateAwake)
				return ctx.Err()
			}
		}
		if err := l.step(t); err != nil {
			return err
		}
		if ready() {
			return nil
		}
		if isDone(done) {
			return ctx.Err()
		}
	}
}

// Run dispatches descriptor callbacks and timers until Stop is called (it then
// returns nil) or ctx is done (it returns ctx.Err()). A Stop is seen even if it
// came before Run started; Run consumes it when it returns.
func (l *Loop) Run(ctx context.Context) error {
	defer l.stop.Store(false)
	done := ctx.Done()
	if done != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		defer context.AfterFunc(ctx, l.Wake)()
	}
	for {
		if err := l.checkEnter(); err != nil {
			return err
		}
		if l.stop.Load() {
			return nil
		}
		if isDone(done) {
			return ctx.Err()
		}
		t := l.untilTimer(-1)
		if t != 0 {
			// The same handshake as Wait, with Stop and ctx as the condition.
			l.state.Store(stateSleeping)
			if l.stop.Load() || isDone(done) {
				l.state.Store(stateAwake)
				continue
			}
		}
		if err := l.step(t); err != nil {
			return err
		}
	}
}

// checkEnter checks, before the owner announces a sleep, that it may block:
// announcing on a closed loop would let a waker write to a closed (perhaps
// reused) descriptor, and a callback that re-enters the loop would clobber the
// batch being dispatched.
func (l *Loop) checkEnter() error {
	if l.closed {
		return errClosed
	}
	if l.inside {
		panic("poller: Poll, Wait or Run called from a loop callback")
	}
	return nil
}

// step blocks for at most t (the caller has checked checkEnter and stored
// stateSleeping if t != 0), then dispatches descriptors and due timers.
func (l *Loop) step(t time.Duration) error {
	if t != 0 {
		l.sleeps.Add(1)
	}
	err := l.pollWait(t)
	if t != 0 {
		l.state.Store(stateAwake)
	}
	if err != nil {
		return err
	}
	l.inside = true
	defer func() { l.inside = false }()
	l.dispatchReady()
	l.runTimers()
	return nil
}

// pollWait blocks in the platform's wait (waitOnce) for at most timeout
// (negative: no limit) and collects the ready descriptors. The wait is retried on
// EINTR, which Go's preemption signal (SIGURG) causes, with the time that is left.
func (l *Loop) pollWait(timeout time.Duration) error {
	var end int64
	if timeout > 0 {
		end = l.now() + int64(timeout)
	}
	for {
		n, err := l.waitOnce(timeout)
		if err == nil {
			l.collect(n)
			return nil
		}
		if err != syscall.EINTR {
			return os.NewSyscallError(waitName, err)
		}
		if timeout > 0 {
			if timeout = time.Duration(end - l.now()); timeout <= 0 {
				return nil
			}
		}
	}
}

// isDone reports whether a context's Done channel is closed; nil never is.
func isDone(done <-chan struct{}) bool {
	if done == nil {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}
