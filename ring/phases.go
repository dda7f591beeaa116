package ring

import (
	"context"
	"runtime"
	"time"
)

// WaitPhases are the steps a waiter takes before it sleeps, in order: poll for
// Spin, if Budget grants a spare core for it; then yield the processor Yield
// times, polling between. Spinning, yielding and sleeping are decided here and
// nowhere else: [NewWaiter] runs the phases before parking in the Go runtime,
// [WaitPhases.Before] before sleeping on another Waiter (an event loop). The
// zero value has no phases: the waiter sleeps at once.
type WaitPhases struct {
	// Spin is how long to poll before yielding or sleeping. It runs only when
	// Budget grants a core for it, so spinning never takes a core that the
	// goroutine being waited for needs.
	Spin time.Duration
	// Budget caps how many waiters spin at once; nil spins without a cap.
	Budget *SpinBudget
	// Yield is how many times to yield the processor with runtime.Gosched,
	// polling between, before sleeping.
	Yield int
}

func (p WaitPhases) check() {
	if p.Spin < 0 || p.Yield < 0 {
		panic("ring: wait phases with a negative spin or yield")
	}
}

// run runs the phases and reports whether ready became true during them.
func (p WaitPhases) run(ready func() bool) bool {
	if p.Spin > 0 && p.spin(ready) {
		return true
	}
	for range p.Yield {
		if ready() {
			return true
		}
		runtime.Gosched()
	}
	return false
}

// spin polls ready for p.Spin if the budget grants a core, and reports whether
// ready became true.
func (p WaitPhases) spin(ready func() bool) bool {
	if p.Budget == nil {
		return spinFor(p.Spin, ready)
	}
	if !p.Budget.acquire() {
		return false
	}
	defer p.Budget.release()
	return spinFor(p.Spin, ready)
}

// Before returns a Waiter that runs the phases, then sleeps on w, and whose
// Wake is w's. An event loop that must keep serving its fds while it waits
// sleeps this way. Rings commit to such a waiter with fenced stores only (it
// does not settle as a PhasedWaiter does). It panics if Spin or Yield is
// negative or w is nil.
func (p WaitPhases) Before(w Waiter) Waiter {
	p.check()
	if w == nil {
		panic("ring: WaitPhases.Before a nil Waiter")
	}
	return &phasedSleep{phases: p, sleep: w}
}

// phasedSleep is WaitPhases.Before's waiter.
type phasedSleep struct {
	phases WaitPhases
	sleep  Waiter
}

func (s *phasedSleep) Wait(ctx context.Context, ready func() bool) error {
	if s.phases.run(ready) {
		return nil
	}
	return s.sleep.Wait(ctx, ready)
}

func (s *phasedSleep) Wake() { s.sleep.Wake() }

// parked reports whether a goroutine sleeps in the Go runtime on the waiter behind the
// phases, where that waiter can tell.
func (s *phasedSleep) parked() bool {
	pw, ok := s.sleep.(parkedWaiter)
	return ok && pw.parked()
}

// parkedWaiter is a Waiter that can tell whether a goroutine is parked on it in the Go
// runtime, for WakeReaders.
type parkedWaiter interface{ parked() bool }
