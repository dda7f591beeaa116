package poller

import "time"

// Timer is a callback scheduled on a loop's monotonic clock. It runs on the
// owner goroutine during Poll, Wait or Run, never before its deadline and
// usually within a millisecond after it (epoll's timeout has millisecond
// granularity; it is rounded up). Timers due in the same round run in deadline
// order, and in creation order for equal deadlines.
type Timer struct {
	l      *Loop
	f      func()
	when   int64  // deadline on l.now's clock
	period int64  // 0 for a one-shot timer
	seq    uint64 // creation (or re-arm) order, to break deadline ties
	index  int    // position in l.timers; -1 when not pending
}

// AfterFunc schedules f to run once, d from now (at once if d <= 0, that is in
// the next dispatch round). Owner goroutine only; callbacks may schedule timers.
// It panics if f is nil. On a closed loop the timer never runs.
func (l *Loop) AfterFunc(d time.Duration, f func()) *Timer {
	return l.schedule(d, 0, f)
}

// Every schedules f to run every d, first d from now. A round that falls behind
// (a slow callback, a long Poll elsewhere) is skipped, not caught up in a burst.
// It panics if d <= 0 or f is nil. On a closed loop the timer never runs.
func (l *Loop) Every(d time.Duration, f func()) *Timer {
	if d <= 0 {
		panic("poller: Every with a non-positive period")
	}
	return l.schedule(d, int64(d), f)
}

func (l *Loop) schedule(d time.Duration, period int64, f func()) *Timer {
	if f == nil {
		panic("poller: timer with a nil func")
	}
	// A negative d would put the deadline before timers already due in this
	// round, and runTimers relies on new timers sorting after them.
	d = max(d, 0)
	t := &Timer{l: l, f: f, when: l.now() + int64(d), period: period, seq: l.timerSeq, index: -1}
	l.timerSeq++
	if !l.closed {
		l.timers.push(t)
	}
	return t
}

// Stop cancels the timer. It reports whether it stopped a pending timer: false
// when a one-shot timer has already run (or is running) or the timer was
// stopped before. A periodic timer may stop itself from its own callback, which
// then returns true. Owner goroutine only.
func (t *Timer) Stop() bool {
	if t == nil || t.index < 0 {
		return false
	}
	t.l.timers.remove(t.index)
	return true
}

// untilTimer clamps a poll timeout (negative: forever) to the earliest timer
// deadline, so the block ends in time for it.
func (l *Loop) untilTimer(timeout time.Duration) time.Duration {
	if timeout == 0 || len(l.timers) == 0 {
		return timeout
	}
	d := time.Duration(l.timers[0].when - l.now())
	if d <= 0 {
		return 0
	}
	if timeout < 0 || d < timeout {
		return d
	}
	return timeout
}

// runTimers runs the timers due now. Timers created by the callbacks of this
// round wait for the next round, even when already due, so that a callback that
// schedules AfterFunc(0, itself) cannot keep the loop here forever.
func (l *Loop) runTimers() {
	if len(l.timers) == 0 {
		return
	}
	now := l.now()
	limit := l.timerSeq
	for len(l.timers) > 0 && !l.closed {
		t := l.timers[0]
		// New timers sort after every older timer due now (their deadline is
		// at least now, and their seq is larger), so the first new one at the
		// top ends the round.
		if t.when > now || t.seq >= limit {
			return
		}
		if t.period > 0 {
			// Re-arm before running f, so that f can Stop its own timer.
			t.when += t.period
			if t.when <= now {
				t.when = now + t.period
			}
			t.seq = l.timerSeq
			l.timerSeq++
			l.timers.down(0)
		} else {
			l.timers.remove(0)
		}
		t.f()
	}
}
